/**
 * FETCH of a message another session expunged but this session still numbers (RFC 3501
 * §7.4.1; RFC 2180 §4.1.2): the others' data, then NO [EXPUNGEISSUED] (RFC 5530 §3), never
 * the missing-mailbox refusal.
 */
import assert from 'node:assert/strict';
import type { MessageIndex } from '@postern/store';
import { ALICE, ALICE_PW, message, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';

const last = (lines: string[]) => lines[lines.length - 1];

describe('imap FETCH of a message expunged by another session', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
  });
  afterEach(async () => {
    await h.close();
  });

  async function session(): Promise<RawClient> {
    const c = await RawClient.connect(h.port);
    await c.readLine();
    assert.match(last(await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^l OK/);
    return c;
  }

  /** a and b both have INBOX with three messages selected; b expunges message 2. */
  async function expungedByOther(): Promise<{ a: RawClient; b: RawClient }> {
    const a = await session();
    const b = await session();
    for (const s of ['one', 'two', 'three']) {
      const m = message(s);
      a.send(`a${s} APPEND INBOX {${m.length}+}\r\n${m}\r\n`);
      assert.match(last(await a.until(`a${s}`)), /^a\w+ OK/);
    }
    assert.match(last(await a.command('s', 'SELECT INBOX')), /^s OK/);
    assert.match(last(await b.command('s', 'SELECT INBOX')), /^s OK/);
    return { a, b };
  }

  async function expunge(b: RawClient, a: RawClient): Promise<void> {
    assert.match(last(await b.command('d', 'STORE 2 +FLAGS.SILENT (\\Deleted)')), /^d OK/);
    // a hears of the flag first, so that its FETCH below shows only what the test is about.
    assert.deepEqual(await a.command('n0', 'NOOP'), [
      '* 2 FETCH (FLAGS (\\Deleted))',
      'n0 OK NOOP completed',
    ]);
    assert.deepEqual(await b.command('x', 'EXPUNGE'), ['* 2 EXPUNGE', 'x OK EXPUNGE completed']);
  }

  it('answers the other messages, then NO [EXPUNGEISSUED]; UID and FLAGS are still answered', async () => {
    const { a, b } = await expungedByOther();
    await expunge(b, a);
    const res = await a.command('f', 'FETCH 1:3 (UID BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    assert.match(res[0], /^\* 1 FETCH \(UID 1 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: one/);
    assert.match(res[1], /^\* 3 FETCH \(UID 3 BODY\[HEADER\.FIELDS \(SUBJECT\)\] \{\d+\}\r\nSubject: three/);
    assert.equal(res[2], 'f NO [EXPUNGEISSUED] some of the requested messages no longer exist');
    assert.equal(res.length, 3);
    // Without .PEEK the \\Seen update finds nothing to change: the same answer.
    assert.deepEqual(await a.command('t', 'FETCH 2 BODY[TEXT]'), [
      't NO [EXPUNGEISSUED] some of the requested messages no longer exist',
    ]);
    // Data the session holds needs no store read (imaptest's 'expunge' group).
    const flags = await a.command('g', 'FETCH 2 (UID FLAGS)');
    assert.equal(flags[0], '* 2 FETCH (UID 2 FLAGS (\\Deleted))');
    assert.equal(last(flags), 'g OK FETCH completed');
    assert.deepEqual(await a.command('n', 'NOOP'), ['* 2 EXPUNGE', 'n OK NOOP completed']);
    a.close();
    b.close();
  });

  it('is NO [EXPUNGEISSUED], not NO [NONEXISTENT], when the message vanishes while being read', async () => {
    // A store whose index read raced the expunge: the index is found, the message is not.
    const mail = h.store.mail;
    const getIndex = mail.getIndex.bind(mail);
    const known = new Map<number, MessageIndex>();
    mail.getIndex = async (user, box, uid) => {
      const index = (await getIndex(user, box, uid)) ?? known.get(uid);
      if (index) known.set(uid, index);
      return index;
    };
    const { a, b } = await expungedByOther();
    assert.match(last(await a.command('p', 'FETCH 2 BODY.PEEK[TEXT]')), /^p OK/);
    await expunge(b, a);
    assert.deepEqual(await a.command('f', 'FETCH 2 BODY.PEEK[TEXT]'), [
      'f NO [EXPUNGEISSUED] some of the requested messages no longer exist',
    ]);
    assert.deepEqual(await a.command('n', 'NOOP'), ['* 2 EXPUNGE', 'n OK NOOP completed']);
    a.close();
    b.close();
  });
});
