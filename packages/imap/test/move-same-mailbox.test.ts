/** MOVE and COPY into the mailbox that is selected (RFC 6851 §3.3, RFC 3501 §6.4.7). */
import assert from 'node:assert/strict';
import { message, startHarness, type Harness, loginPlain } from './harness.js';

const last = (lines: string[]) => lines[lines.length - 1];

describe('imap MOVE into the selected mailbox', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
  });
  afterEach(async () => {
    await h.close();
  });

  const login = () => loginPlain(h.port);

  it('gives the message a new UID and expunges the old one, as MOVE to another mailbox does', async () => {
    const c = await login();
    for (const s of ['one', 'two']) {
      const m = message(s);
      c.send(`a${s} APPEND INBOX (\\Flagged) {${m.length}+}\r\n${m}\r\n`);
      assert.match(last(await c.until(`a${s}`)), /^a\w+ OK/);
    }
    const sel = await c.command('s', 'SELECT INBOX');
    const uidValidity = /UIDVALIDITY (\d+)/.exec(sel.join('\n'))![1];
    assert.deepEqual(await c.command('m', 'MOVE 1 INBOX'), [
      `* OK [COPYUID ${uidValidity} 1 3] moved`,
      '* 1 EXPUNGE',
      '* 2 EXISTS',
      '* 0 RECENT',
      'm OK MOVE completed',
    ]);
    assert.deepEqual(await c.command('f', 'FETCH 1:* (UID FLAGS)'), [
      '* 1 FETCH (UID 2 FLAGS (\\Flagged))',
      '* 2 FETCH (UID 3 FLAGS (\\Flagged))',
      'f OK FETCH completed',
    ]);
    assert.deepEqual(await c.command('u', 'UID MOVE 2 INBOX'), [
      `* OK [COPYUID ${uidValidity} 2 4] moved`,
      '* 1 EXPUNGE',
      '* 2 EXISTS',
      '* 0 RECENT',
      'u OK MOVE completed',
    ]);
    assert.deepEqual(await c.command('st', 'STATUS INBOX (MESSAGES UIDNEXT)'), [
      '* STATUS INBOX (MESSAGES 2 UIDNEXT 5)',
      'st OK STATUS completed',
    ]);
    c.close();
  });

  it('copies into the selected mailbox', async () => {
    const c = await login();
    const m = message('one');
    c.send(`a APPEND INBOX {${m.length}+}\r\n${m}\r\n`);
    assert.match(last(await c.until('a')), /^a OK/);
    assert.match(last(await c.command('s', 'SELECT INBOX')), /^s OK/);
    const copy = await c.command('c', 'COPY 1 INBOX');
    assert.match(last(copy), /^c OK \[COPYUID \d+ 1 2\] COPY completed/);
    assert.ok(copy.includes('* 2 EXISTS'), copy.join('\n'));
    c.close();
  });
});
