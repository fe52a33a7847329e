/**
 * Two sessions on one mailbox (RFC 3501 §7.4.1, §5.5): one expunges while the other is in
 * FETCH (no EXPUNGE there; numbers do not shift), in UID FETCH (EXPUNGE allowed) and in IDLE
 * (RFC 2177: sent at once).
 */
import assert from 'node:assert/strict';
import { ALICE, ALICE_PW, message, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';

describe('imap consistency between sessions', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
    for (const s of ['one', 'two', 'three']) await h.store.mail.append(ALICE, 'INBOX', message(s));
  });
  afterEach(async () => {
    await h.close();
  });

  async function session(): Promise<RawClient> {
    const c = await RawClient.connect(h.port);
    await c.readLine();
    assert.match((await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)).at(-1)!, /^l OK/);
    assert.ok((await c.command('s', 'SELECT INBOX')).includes('* 3 EXISTS'));
    return c;
  }

  it('holds back EXPUNGE during FETCH, STORE and SEARCH, and sends it at NOOP', async () => {
    const a = await session();
    const b = await session();
    await b.command('1', 'STORE 2 +FLAGS.SILENT (\\Deleted)');
    assert.deepEqual(await b.command('2', 'EXPUNGE'), ['* 2 EXPUNGE', '2 OK EXPUNGE completed']);
    const fetch = await a.command('f', 'FETCH 1:3 (FLAGS)');
    assert.ok(!fetch.some((l) => /EXPUNGE/.test(l)), fetch.join('\n'));
    assert.ok(
      fetch.some((l) => l.startsWith('* 3 FETCH')),
      'message 3 keeps its number',
    );
    const search = await a.command('g', 'SEARCH ALL');
    assert.deepEqual(search, ['* SEARCH 1 2 3', 'g OK SEARCH completed']);
    const store = await a.command('h', 'STORE 3 +FLAGS (\\Flagged)');
    assert.ok(!store.some((l) => /EXPUNGE/.test(l)), store.join('\n'));
    assert.match(store[0], /^\* 3 FETCH \(FLAGS \(\\Flagged\)\)/);
    const noop = await a.command('n', 'NOOP');
    assert.ok(noop.includes('* 2 EXPUNGE'), noop.join('\n'));
    assert.deepEqual(await a.command('s', 'SEARCH ALL'), ['* SEARCH 1 2', 's OK SEARCH completed']);
    a.close();
    b.close();
  });

  it('may send EXPUNGE during UID FETCH', async () => {
    const a = await session();
    const b = await session();
    await b.command('1', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    await b.command('2', 'EXPUNGE');
    const res = await a.command('u', 'UID FETCH 1:* (FLAGS)');
    assert.ok(res.includes('* 1 EXPUNGE'), res.join('\n'));
    a.close();
    b.close();
  });

  it('sends EXISTS, flag changes and EXPUNGE to a session in IDLE', async () => {
    const a = await session();
    const b = await session();
    a.send('i IDLE\r\n');
    assert.equal(await a.readLine(), '+ idling');
    await h.store.mail.append(ALICE, 'INBOX', message('four'));
    assert.equal(await a.readLine(), '* 4 EXISTS');
    assert.equal(await a.readLine(), '* 0 RECENT');
    await b.command('1', 'STORE 1 +FLAGS.SILENT (\\Deleted)');
    assert.equal(await a.readLine(), '* 1 FETCH (FLAGS (\\Deleted))');
    await b.command('2', 'EXPUNGE');
    assert.equal(await a.readLine(), '* 1 EXPUNGE');
    a.send('DONE\r\n');
    assert.equal(await a.readLine(), 'i OK IDLE terminated');
    assert.deepEqual(await a.command('s', 'SEARCH ALL'), ['* SEARCH 1 2 3', 's OK SEARCH completed']);
    a.close();
    b.close();
  });
});
