/**
 * Issue 19 item 5, caps: 2,000 idle IMAP connections (and some hundreds of POP3 and NNTP ones)
 * from one address. With the default limits (per IP: 50 for IMAP/POP3/NNTP) most are refused at
 * once, a client from another address is still served, and once they close the slots come back.
 * In-process gateway: the flood cannot crash it, and the default limits are what is under test.
 */
import assert from 'node:assert/strict';
import { RawClient, inBatches, sleep } from './client.js';
import {
  baseOptions,
  checkServing,
  inProcessGateway,
  port,
  type GatewayUnderTest,
} from './gateway-under-test.js';
import { LISTENERS, servedWithin, type ListenerName } from './listeners.js';

/** Twice the default per-IP cap of 50: "most refused", with room for a cap chosen a little higher. */
const MAX_ADMITTED = 100;
const SETTLE_MS = 10_000;

/**
 * Open `count` connections from 127.0.0.1 and leave them idle; wait until the server has closed
 * what it refuses (the count of open ones is stable for a second) and return those still open.
 */
async function flood(port: number, count: number): Promise<{ open: RawClient[]; all: RawClient[] }> {
  // Batches: the listen backlog (511) is not what is under test.
  const all = (
    await inBatches(count, 100, () =>
      RawClient.connect({ port, timeoutMs: 2000 }).catch(() => undefined as RawClient | undefined),
    )
  ).filter((c): c is RawClient => c !== undefined);
  const deadline = Date.now() + SETTLE_MS;
  let last = -1;
  for (;;) {
    const open = all.filter((c) => !c.closed).length;
    if (open === last || Date.now() > deadline) break;
    last = open;
    await sleep(1000);
  }
  return { open: all.filter((c) => !c.closed), all };
}

async function servedAgainFromFloodingAddress(gut: GatewayUnderTest, name: ListenerName): Promise<void> {
  const listener = LISTENERS.find((l) => l.name === name)!;
  // Slots come back when the server sees the close: give it a few seconds, then it must serve.
  const deadline = Date.now() + 5000;
  let reason: string | undefined;
  do {
    reason = await servedWithin(port(gut, name), listener, { localAddress: '127.0.0.1' });
    if (reason === undefined) return;
    await sleep(250);
  } while (Date.now() < deadline);
  assert.fail(`after the flood closed, 127.0.0.1 is not served again: ${reason}`);
}

describe('hostile connection floods: per-IP caps on every protocol, slots given back', function () {
  this.timeout(90_000);
  let gut: GatewayUnderTest;
  before(async () => {
    // Default limits on purpose: a fresh gateway must be protected without configuration.
    gut = await inProcessGateway(baseOptions());
  });
  after(() => gut.close());

  for (const [name, count] of [
    ['imap', 2000],
    ['pop3', 300],
    ['nntp', 300],
  ] as const) {
    it(`${count} idle ${name} connections from one IP: most refused, others served, slots returned`, async () => {
      const { open, all } = await flood(port(gut, name), count);
      try {
        assert.ok(
          open.length <= MAX_ADMITTED,
          `${open.length} of ${count} idle connections from one IP still open (at most ${MAX_ADMITTED})`,
        );
        await checkServing(gut);
      } finally {
        for (const c of all) c.destroy();
      }
      await servedAgainFromFloodingAddress(gut, name);
    });
  }
});
