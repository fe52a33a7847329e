/** APPEND's flags (RFC 3501 §6.3.11) as STATUS and FETCH see them afterwards. */
import assert from 'node:assert/strict';
import { message, startHarness, type Harness, loginPlain } from './harness.js';
import { RawClient } from './client.js';

const last = (lines: string[]) => lines[lines.length - 1];

describe('imap APPEND flags', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
  });
  afterEach(async () => {
    await h.close();
  });

  const login = () => loginPlain(h.port);

  async function append(c: RawClient, tag: string, flags: string): Promise<string[]> {
    const m = message('flagged');
    c.send(`${tag} APPEND INBOX ${flags ? `${flags} ` : ''}{${m.length}+}\r\n${m}\r\n`);
    return c.until(tag);
  }

  it('counts a message appended with lower-case (\\seen \\flagged) as seen in STATUS UNSEEN', async () => {
    const a = await login();
    const b = await login();
    assert.match(last(await a.command('s', 'SELECT INBOX')), /^s OK/);
    assert.match(last(await append(a, 'a1', '(\\seen \\flagged)')), /^a1 OK/);
    assert.deepEqual(await b.command('st', 'STATUS INBOX (MESSAGES UNSEEN)'), [
      '* STATUS INBOX (MESSAGES 1 UNSEEN 0)',
      'st OK STATUS completed',
    ]);
    // Flags are case-insensitive (RFC 3501 §2.3.2): shown in their canonical spelling.
    assert.ok((await a.command('f', 'FETCH 1 FLAGS')).includes('* 1 FETCH (FLAGS (\\Seen \\Flagged))'));
    assert.match(last(await append(a, 'a2', '')), /^a2 OK/);
    assert.deepEqual(await b.command('st2', 'STATUS INBOX (MESSAGES UNSEEN)'), [
      '* STATUS INBOX (MESSAGES 2 UNSEEN 1)',
      'st2 OK STATUS completed',
    ]);
    a.close();
    b.close();
  });

  it('stores lower-case system flags given to STORE in their canonical spelling', async () => {
    const a = await login();
    assert.match(last(await append(a, 'a1', '')), /^a1 OK/);
    assert.match(last(await a.command('s', 'SELECT INBOX')), /^s OK/);
    assert.deepEqual(await a.command('f', 'STORE 1 +FLAGS (\\seen \\DRAFT)'), [
      '* 1 FETCH (FLAGS (\\Seen \\Draft))',
      'f OK STORE completed',
    ]);
    assert.deepEqual(await a.command('st', 'STATUS INBOX (UNSEEN)'), [
      '* STATUS INBOX (UNSEEN 0)',
      'st OK STATUS completed',
    ]);
    a.close();
  });
});
