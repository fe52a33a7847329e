/** Commands and limits over a plaintext test rig (allowInsecureAuth). */
import assert from 'node:assert/strict';
import { ALICE, ALICE_PW, message, startHarness, type Harness, loginPlain } from './harness.js';
import { RawClient } from './client.js';
import type { ImapServerOptions } from '../src/index.js';

const last = (lines: string[]) => lines[lines.length - 1];

describe('imap commands and limits', () => {
  let h: Harness;
  const start = async (o: Partial<ImapServerOptions> = {}) => {
    h = await startHarness({ allowInsecureAuth: true, ...o });
  };
  afterEach(async () => {
    await h.close();
  });

  const login = () => loginPlain(h.port);

  it('refuses commands outside their state', async () => {
    await start();
    const c = await RawClient.connect(h.port);
    await c.readLine();
    assert.match(last(await c.command('a', 'SELECT INBOX')), /^a BAD/);
    assert.match(last(await c.command('b', 'FETCH 1 FLAGS')), /^b BAD/);
    assert.match(last(await c.command('c', 'UID FROB 1')), /^c BAD/);
    await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`);
    assert.match(last(await c.command('d', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^d BAD/);
    assert.match(last(await c.command('e', 'FETCH 1 FLAGS')), /^e BAD/);
    assert.match(last(await c.command('f', 'STARTTLS')), /^f BAD/);
    assert.deepEqual(await c.command('g', 'LOGOUT'), ['* BYE logging out', 'g OK LOGOUT completed']);
    assert.equal(await c.closed(), true);
  });

  it('refuses a literal over the size limit before it is sent, and closes for LITERAL+', async () => {
    await start({ maxLiteralSize: 100 });
    const c = await login();
    c.send('a APPEND INBOX {101}\r\n');
    assert.equal(await c.readLine(), 'a NO [TOOBIG] literal too large');
    assert.match(last(await c.command('b', 'NOOP')), /^b OK/);
    c.send('c APPEND INBOX {101+}\r\n');
    assert.match(await c.readLine(), /^\* BYE \[TOOBIG\]/);
    assert.equal(await c.closed(), true);
  });

  it('refuses an over-long command line and goes on', async () => {
    await start({ maxLineLength: 1024 });
    const c = await login();
    c.send(`a LIST "" ${'x'.repeat(5000)}\r\n`);
    // The tag was never read: the refusal is untagged (RFC 3501 §7.1.5).
    assert.match(await c.readLine(), /^\* BAD \[TOOBIG\]/);
    assert.match(last(await c.command('b', 'NOOP')), /^b OK/);
    c.close();
  });

  it('limits sessions per user', async () => {
    await start({ maxSessionsPerUser: 1 });
    const a = await login();
    const b = await RawClient.connect(h.port);
    await b.readLine();
    assert.match(last(await b.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^l NO \[LIMIT\]/);
    await a.command('x', 'LOGOUT');
    await a.closed();
    // The count is released once the first session has ended.
    for (;;) {
      const res = last(await b.command('m', `LOGIN ${ALICE} "${ALICE_PW}"`));
      if (/^m OK/.test(res)) break;
    }
    b.close();
  });

  it('logs out an idle client (autologout)', async () => {
    await start({ idleTimeoutMs: 50 });
    const c = await login();
    assert.match(await c.readLine(), /^\* BYE autologout/);
    assert.equal(await c.closed(), true);
  });

  it('creates, lists, renames and deletes mailboxes with modified UTF-7 names', async () => {
    await start();
    const c = await login();
    assert.match(last(await c.command('a', 'CREATE "Entw&APw-rfe/Neu"')), /^a OK/);
    const boxes = await h.store.mail.listMailboxes(ALICE);
    assert.ok(
      boxes.some((b) => b.name === 'Entw\u00fcrfe/Neu'),
      JSON.stringify(boxes.map((b) => b.name)),
    );
    const list = await c.command('b', 'LIST "" "Entw&APw-rfe/%"');
    assert.deepEqual(list, ['* LIST (\\HasNoChildren) "/" Entw&APw-rfe/Neu', 'b OK LIST completed']);
    const parent = await c.command('c', 'LIST "" %');
    assert.ok(parent.includes('* LIST (\\Noselect \\HasChildren) "/" Entw&APw-rfe'), parent.join('\n'));
    assert.match(last(await c.command('d', 'CREATE "bad&name"')), /^d NO \[CANNOT\]/);
    assert.match(last(await c.command('e', 'RENAME "Entw&APw-rfe/Neu" Alt')), /^e OK/);
    assert.match(last(await c.command('f', 'SUBSCRIBE Alt')), /^f OK/);
    assert.deepEqual(await c.command('g', 'LSUB "" Alt'), [
      '* LSUB (\\HasNoChildren) "/" Alt',
      'g OK LSUB completed',
    ]);
    const sub = await c.command('g2', 'LIST (SUBSCRIBED) "" "*" RETURN (CHILDREN)');
    assert.ok(
      sub.some((l) => /\\Subscribed\) "\/" Alt$/.test(l)),
      sub.join('\n'),
    );
    const special = await c.command('g3', 'LIST (SPECIAL-USE) "" "*"');
    assert.ok(
      special.some((l) => /\\Sent\) "\/" Sent$/.test(l)) && !special.some((l) => / Alt$/.test(l)),
      special.join('\n'),
    );
    assert.match(last(await c.command('h', 'DELETE Alt')), /^h OK/);
    assert.match(last(await c.command('i', 'DELETE INBOX')), /^i NO/);
    assert.match(last(await c.command('j', 'SELECT nosuch')), /^j NO \[NONEXISTENT\]/);
    assert.match(last(await c.command('k', 'APPEND nosuch {1+}\r\nx')), /^k NO \[TRYCREATE\]/);
    c.send('m CREATE "a\0b"\r\n');
    assert.match(last(await c.until('m')), /^m BAD/);
    assert.deepEqual(await c.command('n', 'LIST "" ""'), [
      '* LIST (\\Noselect) "/" ""',
      'n OK LIST completed',
    ]);
    c.close();
  });

  it('answers NAMESPACE, ID, ENABLE and STATUS', async () => {
    await start();
    await h.store.mail.append(ALICE, 'INBOX', message('one'));
    const c = await login();
    assert.deepEqual(await c.command('a', 'NAMESPACE'), [
      '* NAMESPACE (("" "/")) NIL NIL',
      'a OK NAMESPACE completed',
    ]);
    assert.match((await c.command('b', 'ID ("name" "test")'))[0], /^\* ID \("name" "Postern"/);
    assert.deepEqual(await c.command('c', 'ENABLE CONDSTORE X-UNKNOWN'), [
      '* ENABLED CONDSTORE',
      'c OK ENABLE completed',
    ]);
    const st = await c.command('d', 'STATUS INBOX (MESSAGES UIDNEXT UNSEEN HIGHESTMODSEQ)');
    assert.match(st[0], /^\* STATUS INBOX \(MESSAGES 1 UIDNEXT 2 UNSEEN 1 HIGHESTMODSEQ \d+\)$/);
    c.close();
  });

  it('supports EXAMINE (read-only), CLOSE and UNSELECT', async () => {
    await start();
    await h.store.mail.append(ALICE, 'INBOX', message('one'), { flags: ['\\Deleted'] });
    const c = await login();
    assert.match(last(await c.command('a', 'EXAMINE INBOX')), /^a OK \[READ-ONLY\]/);
    assert.match(last(await c.command('b', 'STORE 1 +FLAGS (\\Seen)')), /^b NO \[READ-ONLY\]/);
    await c.command('c', 'FETCH 1 BODY[TEXT]');
    assert.deepEqual((await h.store.mail.list(ALICE, 'INBOX'))[0].flags, ['\\Deleted']); // no \Seen in EXAMINE
    assert.match(last(await c.command('d', 'CLOSE')), /^d OK/);
    assert.equal((await h.store.mail.list(ALICE, 'INBOX')).length, 1); // CLOSE after EXAMINE expunges nothing
    await c.command('e', 'SELECT INBOX');
    assert.match(last(await c.command('f', 'UNSELECT')), /^f OK/);
    assert.equal((await h.store.mail.list(ALICE, 'INBOX')).length, 1);
    await c.command('g', 'SELECT INBOX');
    const f = await c.command('h', 'FETCH 1 (BODY[TEXT] ENVELOPE)');
    assert.match(f[0], /FLAGS \(\\Deleted \\Seen\)/); // \Seen set by BODY[] and shown
    assert.match(
      f[0],
      /ENVELOPE \("Mon, 23 Nov 2026 08:00:00 \+0000" "one" \(\(NIL NIL "bob" "example.org"\)\)/,
    );
    await c.command('i', 'CLOSE');
    assert.equal((await h.store.mail.list(ALICE, 'INBOX')).length, 0);
    c.close();
  });

  it('answers <origin.length> partials with exactly those octets of the section (RFC 3501 §6.4.5)', async () => {
    await start();
    const raw = 'Subject: partial\r\nFrom: bob@example.org\r\n\r\n0123456789abcdefghij\r\n';
    await h.store.mail.append(ALICE, 'INBOX', Buffer.from(raw));
    const c = await login();
    await c.command('s', 'SELECT INBOX');
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);
    const cases: Array<[string, string, string]> = [
      ['BODY.PEEK[]<0.7>', 'BODY[]<0>', raw.slice(0, 7)],
      ['BODY.PEEK[]<9.10>', 'BODY[]<9>', raw.slice(9, 19)],
      ['BODY.PEEK[TEXT]<4.6>', 'BODY[TEXT]<4>', body.slice(4, 10)],
      ['BODY.PEEK[TEXT]<20.100>', 'BODY[TEXT]<20>', body.slice(20)],
      ['BODY.PEEK[]<5000.10>', 'BODY[]<5000>', ''],
      ['BODY.PEEK[HEADER.FIELDS (SUBJECT)]<2.5>', 'BODY[HEADER.FIELDS (SUBJECT)]<2>', 'bject'],
    ];
    for (const [i, [item, name, want]] of cases.entries()) {
      const lines = await c.command(`p${i}`, `FETCH 1 (${item})`);
      assert.equal(lines[0], `* 1 FETCH (${name} {${Buffer.byteLength(want)}}\r\n${want})`, item);
    }
    c.close();
  });

  it('CONDSTORE: CHANGEDSINCE, UNCHANGEDSINCE and MODSEQ search', async () => {
    await start();
    for (const s of ['one', 'two']) await h.store.mail.append(ALICE, 'INBOX', message(s));
    const c = await login();
    const sel = await c.command('a', 'SELECT INBOX (CONDSTORE)');
    const hms = Number(/HIGHESTMODSEQ (\d+)/.exec(sel.join('\n'))?.[1]);
    assert.ok(hms > 0, sel.join('\n'));
    const st = await c.command('b', 'STORE 2 +FLAGS.SILENT (\\Flagged)');
    assert.equal(st.length, 1);
    const changed = await c.command('c', `FETCH 1:* (FLAGS) (CHANGEDSINCE ${hms})`);
    assert.equal(changed.length, 2, changed.join('\n'));
    assert.match(changed[0], /^\* 2 FETCH \(UID 2 FLAGS \(\\Flagged\) MODSEQ \(\d+\)\)$/);
    const cond = await c.command('d', `STORE 1:2 (UNCHANGEDSINCE ${hms}) +FLAGS (\\Seen)`);
    assert.match(last(cond), /^d OK \[MODIFIED 2\]/);
    const search = await c.command('e', `SEARCH MODSEQ ${hms + 1}`);
    assert.match(search[0], /^\* SEARCH 1 2 \(MODSEQ \d+\)$/);
    const es = await c.command('f', 'UID SEARCH RETURN (MIN MAX COUNT ALL) ALL');
    assert.equal(es[0], '* ESEARCH (TAG "f") UID MIN 1 MAX 2 COUNT 2 ALL 1:2');
    c.close();
  });
});
