/**
 * CONDSTORE enabled implicitly (RFC 7162 §3.1): FETCH or SEARCH naming MODSEQ is a
 * CONDSTORE-enabling command; the first one while a mailbox is selected brings an untagged
 * OK [HIGHESTMODSEQ], and from then on STORE's untagged FETCH carries MODSEQ. ESEARCH's
 * MODSEQ result (RFC 7162 §3.1.5) is that of the messages actually returned: the one found
 * for MIN or MAX alone, the higher of the two for MIN and MAX, the highest of all otherwise.
 */
import assert from 'node:assert/strict';
import { ALICE, ALICE_PW, message, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';

const last = (lines: string[]) => lines[lines.length - 1];

describe('imap CONDSTORE enabling commands', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
    for (const s of ['one', 'two', 'three', 'four']) await h.store.mail.append(ALICE, 'INBOX', message(s));
  });
  afterEach(async () => {
    await h.close();
  });

  async function selected(): Promise<RawClient> {
    const c = await RawClient.connect(h.port);
    await c.readLine();
    assert.match(last(await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^l OK/);
    const sel = await c.command('s', 'SELECT INBOX');
    assert.ok(!sel.some((l) => /HIGHESTMODSEQ/.test(l)), sel.join('\n'));
    return c;
  }

  /** STORE +FLAGS \Seen on one message; its untagged FETCH must carry the new MODSEQ. */
  async function seen(c: RawClient, seq: number): Promise<number> {
    const lines = await c.command(`st${seq}`, `STORE ${seq} +FLAGS \\Seen`);
    assert.match(last(lines), /^st\d+ OK/);
    const m = new RegExp(`^\\* ${seq} FETCH \\(.*MODSEQ \\((\\d+)\\).*\\)$`).exec(lines[0]);
    assert.ok(m, lines.join('\n'));
    return Number(m[1]);
  }

  it('FETCH … MODSEQ enables CONDSTORE: OK [HIGHESTMODSEQ] once, then MODSEQ in STORE replies', async () => {
    const c = await selected();
    const first = await c.command('a', 'FETCH 1 MODSEQ');
    assert.match(first[0], /^\* OK \[HIGHESTMODSEQ \d+\]/, first.join('\n'));
    assert.match(first[1], /^\* 1 FETCH \(.*MODSEQ \(\d+\).*\)$/);
    assert.match(last(first), /^a OK/);
    // Only the first enabling command says it.
    const again = await c.command('b', 'FETCH 1 MODSEQ');
    assert.ok(!again.some((l) => /HIGHESTMODSEQ/.test(l)), again.join('\n'));
    await seen(c, 1);
    c.close();
  });

  it('SEARCH MODSEQ enables CONDSTORE too', async () => {
    const c = await selected();
    const res = await c.command('a', 'SEARCH MODSEQ 1');
    assert.match(res[0], /^\* OK \[HIGHESTMODSEQ \d+\]/, res.join('\n'));
    await seen(c, 2);
    c.close();
  });

  it('ESEARCH MODSEQ is that of the messages returned', async () => {
    const c = await selected();
    await c.command('e', 'FETCH 1 MODSEQ');
    const ms: number[] = [];
    for (const seq of [1, 3, 2, 4]) ms[seq] = await seen(c, seq);
    const q = (ret: string, set: string, since: number) =>
      c.command('q', `SEARCH RETURN (${ret}) ${set} MODSEQ "/flags/\\\\seen" all ${since}`).then((l) => l[0]);
    assert.equal(await q('MIN', '1:3', 1), `* ESEARCH (TAG "q") MIN 1 MODSEQ ${ms[1]}`);
    assert.equal(await q('MAX', '1:3', 1), `* ESEARCH (TAG "q") MAX 3 MODSEQ ${ms[3]}`);
    assert.equal(await q('', '1:3', 1), `* ESEARCH (TAG "q") ALL 1:3 MODSEQ ${ms[2]}`);
    assert.equal(await q('MIN MAX', '2:3', 1), `* ESEARCH (TAG "q") MIN 2 MAX 3 MODSEQ ${ms[2]}`);
    assert.equal(await q('ALL', '2:3', ms[3]), `* ESEARCH (TAG "q") ALL 2:3 MODSEQ ${ms[2]}`);
    assert.equal(await q('ALL', '2:3', ms[2]), `* ESEARCH (TAG "q") ALL 2 MODSEQ ${ms[2]}`);
    assert.equal(await q('ALL', '2:3', ms[4]), '* ESEARCH (TAG "q")');
    c.close();
  });
});
