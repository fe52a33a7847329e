/**
 * End to end with imapflow: STARTTLS and implicit TLS, login, select, append, search, fetch,
 * store, copy, move, expunge, idle.
 */
import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import { ALICE, ALICE_PW, message, startHarness, type Harness } from './harness.js';

function client(h: Harness, implicit = false): ImapFlow {
  return new ImapFlow({
    host: '127.0.0.1',
    port: implicit ? h.tlsPort : h.port,
    secure: implicit,
    doSTARTTLS: implicit ? undefined : true,
    servername: 'localhost',
    tls: { ca: h.ca },
    auth: { user: ALICE, pass: ALICE_PW },
    logger: process.env.IMAP_DEBUG
      ? ({
          debug: (o: { msg?: string }) => console.log(JSON.stringify(o).slice(0, 300)),
          info: () => 0,
          warn: console.log,
          error: console.log,
        } as never)
      : false,
  } as ConstructorParameters<typeof ImapFlow>[0]);
}

describe('imap end to end with imapflow', function () {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  it('logs in over STARTTLS and over implicit TLS', async () => {
    for (const implicit of [false, true]) {
      const c = client(h, implicit);
      await c.connect();
      assert.equal(c.authenticated !== false, true);
      const box = await c.mailboxOpen('INBOX');
      assert.equal(box.exists, 0);
      await c.logout();
    }
  });

  it('appends, searches, fetches, stores, copies, moves and expunges', async () => {
    const c = client(h);
    await c.connect();
    const res = await c.append('INBOX', message('one', 'alpha text\r\n'), ['\\Seen']);
    assert.ok(res && typeof res === 'object' && res.uid === 1);
    await c.append('INBOX', message('two', 'beta text\r\n'));
    await c.append('INBOX', message('three', 'gamma text\r\n'));
    await c.mailboxOpen('INBOX');
    assert.deepEqual(await c.search({ seen: false }), [2, 3]);
    assert.deepEqual(await c.search({ uid: '2:*' }, { uid: true }), [2, 3]);
    const fetched: Array<{ uid: number; flags: string[]; size: number; source: string }> = [];
    for await (const m of c.fetch('1:*', { uid: true, flags: true, size: true, source: true })) {
      fetched.push({
        uid: m.uid,
        flags: [...(m.flags ?? [])],
        size: m.size ?? 0,
        source: m.source?.toString() ?? '',
      });
    }
    assert.equal(fetched.length, 3);
    assert.deepEqual(fetched[0].flags, ['\\Seen']);
    assert.equal(fetched[1].source, message('two', 'beta text\r\n'));
    assert.equal(fetched[1].size, message('two', 'beta text\r\n').length);
    const one = await c.fetchOne('2', { envelope: true, bodyStructure: true });
    assert.ok(one);
    assert.equal(one.envelope?.subject, 'two');
    assert.equal(one.envelope?.from?.[0]?.address, 'bob@example.org');
    assert.equal(one.bodyStructure?.type, 'text/plain');
    const { content } = await c.download('2', '1');
    assert.ok(content);
    const parts: Buffer[] = [];
    for await (const chunk of content) parts.push(chunk as Buffer);
    assert.equal(Buffer.concat(parts).toString(), 'beta text\r\n');
    await c.messageFlagsAdd('2', ['\\Flagged', '$Important']);
    assert.deepEqual(await c.search({ flagged: true }), [2]);
    assert.deepEqual(await c.search({ keyword: '$Important' }), [2]);
    await c.mailboxCreate('Archive2');
    const copied = await c.messageCopy('1:2', 'Archive2');
    assert.ok(copied && copied.uidMap && copied.uidMap.size === 2);
    const moved = await c.messageMove('3', 'Archive2', { uid: true });
    assert.ok(moved && moved.uidMap && moved.uidMap.get(3) === 3);
    assert.equal((c.mailbox as { exists: number }).exists, 2);
    assert.equal(await c.messageDelete('1'), true);
    assert.equal((c.mailbox as { exists: number }).exists, 1);
    const status = await c.status('Archive2', { messages: true, unseen: true });
    assert.ok(status);
    assert.equal(status.messages, 3);
    const list = await c.list();
    assert.ok(list.some((b) => b.path === 'Archive2'));
    await c.logout();
  });

  it('receives EXISTS and EXPUNGE in IDLE from another session', async () => {
    const watcher = client(h);
    const writer = client(h);
    await watcher.connect();
    await writer.connect();
    await watcher.mailboxOpen('INBOX');
    const existsSeen = new Promise<number>((resolve) =>
      watcher.on('exists', (d: { count: number }) => resolve(d.count)),
    );
    const idling = watcher.idle();
    await writer.append('INBOX', message('pushed'));
    assert.equal(await existsSeen, 1);
    const expungeSeen = new Promise<number>((resolve) =>
      watcher.on('expunge', (d: { seq: number }) => resolve(d.seq)),
    );
    await writer.mailboxOpen('INBOX');
    await writer.messageDelete('1');
    assert.equal(await expungeSeen, 1);
    await watcher.logout();
    await idling.catch(() => undefined);
    await writer.logout();
  });
});
