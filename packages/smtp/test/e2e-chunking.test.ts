/**
 * The same session cut into packets at random places (fast-check): a CRLF split in two, the
 * final dot alone in a packet, a BDAT chunk straddling packets. The replies and the stored
 * messages must not depend on where TCP happened to cut (RFC 2920 pipelining, RFC 3030 BDAT).
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ALICE, BOB, addedPrefix, inbox, RawClient, startHarness, type Harness } from './e2e-harness.js';

const MESSAGE = Buffer.from(
  'From: carol@remote.example\r\nSubject: cut anywhere\r\nMessage-ID: <cut@x>\r\n\r\n' +
    '.leading dot\r\n..two dots\r\n.\r\nline with \u00e9\r\n\r\nlast\r\n',
  'utf8',
);
/** DATA form: dot-stuffed, with the terminator. */
const STUFFED = Buffer.from(MESSAGE.toString('latin1').replace(/^\./gm, '..') + '.\r\n', 'latin1');

const BEFORE_DATA = Buffer.from(
  'EHLO client.example.net\r\nMAIL FROM:<carol@remote.example>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n',
);
const AFTER_354 = Buffer.concat([
  STUFFED,
  Buffer.from(
    `MAIL FROM:<carol@remote.example>\r\nRCPT TO:<bob@example.org>\r\nBDAT ${MESSAGE.length} LAST\r\n`,
  ),
  MESSAGE,
  Buffer.from('QUIT\r\n'),
]);

function cut(data: Buffer, points: number[]): Buffer[] {
  const at = [...new Set(points.map((p) => p % data.length))].sort((a, b) => a - b);
  const out: Buffer[] = [];
  let from = 0;
  for (const p of at) {
    if (p > from) out.push(data.subarray(from, p));
    from = p;
  }
  out.push(data.subarray(from));
  return out;
}

async function send(c: RawClient, pieces: Buffer[]): Promise<void> {
  for (const p of pieces) {
    c.write(p);
    // Let each piece leave as its own segment most of the time.
    await new Promise((r) => setImmediate(r));
  }
}

describe('smtp server: input cut into packets anywhere', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({ role: 'mx' });
  });
  after(async () => h.close());

  it('answers and stores the same whatever the packet boundaries', async () => {
    let runs = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.nat(), { maxLength: 12 }),
        fc.array(fc.nat(), { maxLength: 24 }),
        async (cuts1, cuts2) => {
          runs++;
          const c = await RawClient.connect(h.port);
          (c.socket as { setNoDelay?: (v: boolean) => void }).setNoDelay?.(true);
          assert.equal((await c.reply()).code, 220);
          await send(c, cut(BEFORE_DATA, cuts1));
          const first = [];
          for (let i = 0; i < 5; i++) first.push((await c.reply()).code);
          assert.deepEqual(first, [250, 250, 250, 250, 354]);
          await send(c, cut(AFTER_354, cuts2));
          const rest = [];
          for (let i = 0; i < 5; i++) rest.push((await c.reply()).code);
          assert.deepEqual(rest, [250, 250, 250, 250, 221]);
          await c.closed();
        },
      ),
      { numRuns: 25 },
    );
    const alice = await inbox(h.store, ALICE);
    const bob = await inbox(h.store, BOB);
    assert.equal(alice.length, runs);
    assert.equal(bob.length, 2 * runs);
    for (const m of [...alice, ...bob]) addedPrefix(m, MESSAGE);
  });
});
