/** startGateway start-to-ready on the memory store (issue 6 asks for under 200 ms). */
import { startGateway } from '@postern/server';
import type { BenchCase } from '../harness.js';

export function gatewayCases(): BenchCase[] {
  return [
    {
      name: 'gateway start-to-ready (memory store)',
      unit: 'ms',
      lowerIsBetter: true,
      rounds: { quick: 5, full: 15 },
      note: 'target < 200 ms; every listener on a free port, certificate generated in memory',
      async postern() {
        const t0 = performance.now();
        const gw = await startGateway({ store: 'memory', domains: ['example.test'], users: [{ address: 'a@example.test', password: 'pw' }] });
        const ms = performance.now() - t0;
        await gw.close();
        return ms;
      },
    },
  ];
}
