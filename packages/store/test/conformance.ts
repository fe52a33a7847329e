/**
 * The store conformance suite: what every backend (memory, fs, later redis) must do, through
 * the interfaces only. Each backend's test file calls runStoreConformance with a factory.
 * The parts live in ./conformance/ (one concern each); this file wires them.
 */
import type { Store } from '../src/types.js';
import { accountsConformance } from './conformance/accounts.js';
import { type Ctx, U, V } from './conformance/context.js';
import { mailConformance } from './conformance/mail.js';
import { newsConformance } from './conformance/news.js';
import { queueConformance } from './conformance/queue.js';
import { safetyConformance } from './conformance/safety.js';
import { streamingConformance } from './conformance/streaming.js';

export interface OpenedStore {
  store: Store;
  cleanup(): Promise<void>;
  /**
   * Optional: another handle on the same data, as a second process or session would open
   * it. Without it, the suite uses `store` for both "sessions".
   */
  openSecond?(): Promise<Store>;
}

export type OpenStore = () => Promise<OpenedStore>;

export function runStoreConformance(name: string, open: OpenStore): void {
  describe(`store conformance: ${name}`, function () {
    this.timeout(30_000);
    let ctx: Ctx | undefined;
    let opened: OpenedStore | undefined;
    beforeEach(async () => {
      opened = await open();
      const s = opened.store;
      const s2 = opened.openSecond ? await opened.openSecond() : s;
      ctx = { s, s2 };
      await s.accounts.addDomain('example.com');
      await s.accounts.addUser(U, 'ann-pw');
      await s.accounts.addUser(V, 'bob-pw');
    });
    afterEach(async () => {
      if (ctx && ctx.s2 !== ctx.s) await ctx.s2.close();
      await ctx?.s.close();
      await opened?.cleanup();
      ctx = undefined;
      opened = undefined;
    });
    const get = (): Ctx => {
      if (!ctx) throw new Error('store not open');
      return ctx;
    };
    accountsConformance(get);
    mailConformance(get);
    newsConformance(get);
    queueConformance(get);
    safetyConformance(get);
    streamingConformance(get);
  });
}
