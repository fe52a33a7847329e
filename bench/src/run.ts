/**
 * `npm run bench [-- --quick] [-- --only NAME]`: runs every case, prints one table and a
 * summary line per case, and writes bench/results.json.
 */
import { writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { runCase, summaryLine, table, type BenchCase, type CaseResult } from './harness.js';
import { gatewayCases } from './cases/gateway.js';
import { tlsCases } from './cases/tls.js';
import { tlsServerCpuCases } from './cases/tls-server-cpu.js';
import { memoryCases } from './cases/memory.js';
import { smtpCases } from './cases/smtp.js';
import { storeCases } from './cases/store.js';
import { imapCases } from './cases/imap.js';
import { nntpCases } from './cases/nntp.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const onlyIdx = args.indexOf('--only');
const only = onlyIdx >= 0 ? args[onlyIdx + 1] : undefined;

const cases: BenchCase[] = [
  ...tlsCases(),
  ...tlsServerCpuCases(),
  ...gatewayCases(),
  ...smtpCases(),
  ...storeCases(quick),
  ...memoryCases(quick),
  ...imapCases(quick),
  ...nntpCases(quick),
].filter((c) => !only || c.name.includes(only));

const results: CaseResult[] = [];
for (const c of cases) {
  process.stderr.write(`bench: ${c.name} …\n`);
  try {
    results.push(await runCase(c, quick));
  } catch (err) {
    process.stderr.write(`bench: ${c.name} failed: ${(err as Error).stack}\n`);
    process.exitCode = 1;
  }
}
const machine = `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
console.log(`\nPostern benchmarks (${quick ? 'quick' : 'full'}), ${machine}\n`);
console.log(table(results));
console.log('');
for (const r of results) console.log(summaryLine(r));
for (const r of results) if (r.note) console.log(`note ${r.name}: ${r.note}`);
const out = fileURLToPath(new URL('../results.json', import.meta.url));
writeFileSync(
  out,
  JSON.stringify({ date: new Date().toISOString(), quick, machine, results }, null, 2) + '\n',
);
console.log(`\nwrote ${out}`);
