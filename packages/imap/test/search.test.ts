/** SEARCH evaluation over the wire (RFC 3501 §6.4.4). */
import assert from 'node:assert/strict';
import { ALICE, ALICE_PW, message, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';

describe('imap SEARCH', () => {
  let h: Harness;
  let c: RawClient;
  before(async () => {
    h = await startHarness({ allowInsecureAuth: true });
    const day = (d: string) => ({ internalDate: new Date(`${d}T12:00:00Z`) });
    await h.store.mail.append(ALICE, 'INBOX', message('Lunch plans', 'Shall we eat?\r\n'), {
      ...day('2026-01-10'),
      flags: ['\\Seen'],
    });
    await h.store.mail.append(
      ALICE,
      'INBOX',
      message('Caf\u00e9 report', 'Numbers inside.\r\n', 'carol@example.net'),
      day('2026-02-10'),
    );
    await h.store.mail.append(ALICE, 'INBOX', message('Big one', `${'x'.repeat(2000)}\r\n`), {
      ...day('2026-03-10'),
      flags: ['\\Flagged', '$Work'],
    });
    c = await RawClient.connect(h.port);
    await c.readLine();
    await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`);
    await c.command('s', 'SELECT INBOX');
  });
  after(async () => {
    c.close();
    await h.close();
  });

  const cases: Array<[string, string]> = [
    ['ALL', '1 2 3'],
    ['SEEN', '1'],
    ['UNSEEN', '2 3'],
    ['FLAGGED KEYWORD $Work', '3'],
    ['UNKEYWORD $Work', '1 2'],
    ['OR SEEN FLAGGED', '1 3'],
    ['NOT OR SEEN FLAGGED', '2'],
    ['LARGER 1000', '3'],
    ['SMALLER 1000', '1 2'],
    ['SINCE 10-Feb-2026', '2 3'],
    ['BEFORE 10-Feb-2026', '1'],
    ['ON 10-Feb-2026', '2'],
    ['SENTON 23-Nov-2026', '1 2 3'],
    ['SENTBEFORE 1-Jan-2026', ''],
    ['SUBJECT lunch', '1'],
    ['FROM carol', '2'],
    ['TO alice', '1 2 3'],
    ['HEADER Message-ID "<Bigone@"', '3'],
    ['BODY inside', '2'],
    ['TEXT eat', '1'],
    ['TEXT Lunch', '1'],
    ['2:* UID 1:2', '2'],
    ['(SEEN) (UNFLAGGED)', '1'],
  ];
  for (const [query, want] of cases) {
    it(query, async () => {
      const res = await c.command('q', `SEARCH ${query}`);
      assert.deepEqual(res, [`* SEARCH${want ? ` ${want}` : ''}`, 'q OK SEARCH completed']);
    });
  }

  it('CHARSET UTF-8 with a literal', async () => {
    const word = Buffer.from('caf\u00e9');
    c.send(`q SEARCH CHARSET UTF-8 SUBJECT {${word.length}+}\r\n`);
    c.send(Buffer.concat([word, Buffer.from('\r\n')]));
    assert.deepEqual(await c.until('q'), ['* SEARCH 2', 'q OK SEARCH completed']);
  });

  it('answers a bad key with BAD and an unknown charset with NO [BADCHARSET]', async () => {
    assert.match((await c.command('q', 'SEARCH FROBNICATE')).at(-1)!, /^q BAD/);
    assert.match((await c.command('q', 'SEARCH CHARSET EBCDIC ALL')).at(-1)!, /^q NO \[BADCHARSET/);
  });

  it('answers BAD to keys nested past the depth limit, and serves the next command', async () => {
    // Issue 19: 5,000 nested parentheses overflowed the stack and answered NO [SERVERBUG].
    const parens = `${'('.repeat(5000)}ALL${')'.repeat(5000)}`;
    assert.match((await c.command('d', `SEARCH ${parens}`)).at(-1)!, /^d BAD .*nested/);
    assert.match((await c.command('n', `SEARCH ${'NOT '.repeat(5000)}ALL`)).at(-1)!, /^n BAD .*nested/);
    const ors = `${'OR SEEN '.repeat(5000)}SEEN`;
    assert.match((await c.command('o', `SEARCH ${ors}`)).at(-1)!, /^o BAD .*nested/);
    // Up to the limit it still works.
    const fine = `${'('.repeat(99)}SEEN${')'.repeat(99)}`;
    assert.deepEqual(await c.command('f', `SEARCH ${fine}`), ['* SEARCH 1', 'f OK SEARCH completed']);
    assert.deepEqual(await c.command('g', 'NOOP'), ['g OK NOOP completed']);
  });
});
