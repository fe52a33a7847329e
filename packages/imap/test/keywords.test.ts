/** Keywords in FLAGS and PERMANENTFLAGS (RFC 3501 §6.3.1, §7.2.6). */
import assert from 'node:assert/strict';
import { message, startHarness, type Harness, loginPlain } from './harness.js';
import { RawClient } from './client.js';

const last = (lines: string[]) => lines[lines.length - 1];
const SYSTEM = '\\Answered \\Flagged \\Deleted \\Seen \\Draft';

describe('imap keywords in FLAGS', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
  });
  afterEach(async () => {
    await h.close();
  });

  const login = () => loginPlain(h.port);

  async function append(c: RawClient, tag: string, flags: string): Promise<void> {
    const m = message('keywords');
    c.send(`${tag} APPEND INBOX (${flags}) {${m.length}+}\r\n${m}\r\n`);
    assert.match(last(await c.until(tag)), new RegExp(`^${tag} OK`));
  }

  it('lists the keywords in use in FLAGS and PERMANENTFLAGS at SELECT, and none permitted at EXAMINE', async () => {
    const a = await login();
    await append(a, 'a1', '$Foo \\Seen');
    const sel = await a.command('s', 'SELECT INBOX');
    assert.ok(sel.includes(`* FLAGS (${SYSTEM} $Foo)`), sel.join('\n'));
    assert.ok(sel.includes(`* OK [PERMANENTFLAGS (${SYSTEM} $Foo \\*)] flags permitted`), sel.join('\n'));
    const ex = await a.command('e', 'EXAMINE INBOX');
    assert.ok(ex.includes(`* FLAGS (${SYSTEM} $Foo)`), ex.join('\n'));
    assert.ok(ex.includes('* OK [PERMANENTFLAGS ()] flags permitted'), ex.join('\n'));
    a.close();
  });

  it('sends FLAGS before the FETCH that first shows a new keyword, to this session and to others', async () => {
    const a = await login();
    const b = await login();
    await append(a, 'a1', '\\Seen');
    assert.match(last(await a.command('s', 'SELECT INBOX')), /^s OK/);
    assert.match(last(await b.command('s', 'SELECT INBOX')), /^s OK/);
    assert.deepEqual(await a.command('k', 'STORE 1 +FLAGS ($Bar)'), [
      `* FLAGS (${SYSTEM} $Bar)`,
      `* OK [PERMANENTFLAGS (${SYSTEM} $Bar \\*)] flags permitted`,
      '* 1 FETCH (FLAGS (\\Seen $Bar))',
      'k OK STORE completed',
    ]);
    assert.deepEqual(await b.command('n', 'NOOP'), [
      `* FLAGS (${SYSTEM} $Bar)`,
      `* OK [PERMANENTFLAGS (${SYSTEM} $Bar \\*)] flags permitted`,
      '* 1 FETCH (FLAGS (\\Seen $Bar))',
      'n OK NOOP completed',
    ]);
    // A keyword already announced is not announced again.
    assert.deepEqual(await a.command('k2', 'STORE 1 FLAGS ($Bar)'), [
      '* 1 FETCH (FLAGS ($Bar))',
      'k2 OK STORE completed',
    ]);
    // A new message bringing a new keyword: FLAGS comes with the EXISTS, before any FETCH of it.
    await append(a, 'a2', '$Baz');
    const noop = await b.command('n2', 'NOOP');
    const flagsAt = noop.indexOf(`* FLAGS (${SYSTEM} $Bar $Baz)`);
    assert.ok(flagsAt !== -1 && flagsAt < noop.indexOf('* 2 EXISTS'), noop.join('\n'));
    // A keyword set silently is still announced, at the end of the command.
    assert.deepEqual(await b.command('k3', 'STORE 2 +FLAGS.SILENT ($Qux)'), [
      `* FLAGS (${SYSTEM} $Bar $Baz $Qux)`,
      `* OK [PERMANENTFLAGS (${SYSTEM} $Bar $Baz $Qux \\*)] flags permitted`,
      'k3 OK STORE completed',
    ]);
    a.close();
    b.close();
  });
});
