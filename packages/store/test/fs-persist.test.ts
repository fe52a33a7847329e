/**
 * What the CLI relies on: accounts, aliases, domains, groups and mail written through one
 * handle are there for a handle opened later (another process, in real use), and concurrent
 * account changes from two handles all land.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { openFsStore } from '../src/fs/index.js';
import { StoreError } from '../src/types.js';

describe('fs store: persistence across handles', function () {
  this.timeout(30_000);
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-persist-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('claims nothing, without an error, from a queue that never held an item', async () => {
    const store = await openFsStore(dir, { domains: ['example.com'] });
    assert.deepEqual(await store.queue.claim(10, 60_000), []);
    assert.deepEqual(await store.queue.list(), []);
    await store.close();
  });

  it('keeps accounts, aliases, domains, groups, mail and queue items for the next handle', async () => {
    const a = await openFsStore(dir, { domains: ['example.com'] });
    await a.accounts.addUser('u@example.com', 'pw1');
    await a.accounts.addAlias('alias@example.com', 'u@example.com');
    await a.accounts.setPassword('u@example.com', 'pw2');
    await a.news.createGroup('local.test', { description: 'tests', mailAddress: 'list@example.com' });
    await a.news.post(
      ['local.test'],
      '<p1@example.com>',
      'Subject: hello\r\nMessage-ID: <p1@example.com>\r\n\r\nbody\r\n',
    );
    await a.mail.append('u@example.com', 'INBOX', 'Subject: kept\r\n\r\nkept\r\n', { flags: ['\\Flagged'] });
    const qid = await a.queue.enqueue(
      { from: 'u@example.com', to: ['x@remote.test'] },
      'Subject: out\r\n\r\n.\r\n',
    );
    await a.close();

    const b = await openFsStore(dir);
    assert.deepEqual(await b.accounts.listUsers(), ['u@example.com']);
    assert.equal(await b.accounts.verifyPassword('u@example.com', 'pw2'), true);
    assert.equal(await b.accounts.verifyPassword('u@example.com', 'pw1'), false);
    assert.equal(await b.accounts.resolve('ALIAS@example.com'), 'u@example.com');
    assert.deepEqual(await b.accounts.listDomains(), ['example.com']);
    const g = await b.news.getGroup('local.test');
    assert.equal(g?.description, 'tests');
    assert.equal(g?.count, 1);
    assert.equal((await b.news.groupByMailAddress('LIST@example.com'))?.name, 'local.test');
    assert.equal((await b.news.articleById('<p1@example.com>'))?.number, 1);
    await assert.rejects(
      b.news.post(['local.test'], '<p1@example.com>', 'x'),
      (e: unknown) => e instanceof StoreError && e.code === 'DUPLICATE',
    );
    const [m] = await b.mail.list('u@example.com', 'INBOX');
    assert.deepEqual(m.flags, ['\\Flagged']);
    assert.equal(
      await text(await b.mail.openMessage('u@example.com', 'INBOX', m.uid)),
      'Subject: kept\r\n\r\nkept\r\n',
    );
    assert.equal((await b.queue.get(qid))?.state, 'queued');
    assert.equal(await text(await b.queue.openMessage(qid)), 'Subject: out\r\n\r\n.\r\n');
    await b.close();
  });

  it('concurrent account changes from two handles all land, and no temp files stay', async () => {
    const a = await openFsStore(dir, { domains: ['example.com'] });
    const b = await openFsStore(dir);
    await Promise.all([
      ...[0, 1, 2, 3, 4].map((i) => a.accounts.addUser(`a${i}@example.com`, 'pw')),
      ...[0, 1, 2, 3, 4].map((i) => b.accounts.addUser(`b${i}@example.com`, 'pw')),
      b.accounts.addDomain('other.test'),
    ]);
    assert.equal((await a.accounts.listUsers()).length, 10);
    assert.deepEqual(await a.accounts.listDomains(), ['example.com', 'other.test']);
    await assert.rejects(
      a.accounts.addUser('b0@example.com', 'x'),
      (e: unknown) => e instanceof StoreError && e.code === 'EXISTS',
    );
    assert.ok(
      (await readdir(dir)).every((f) => !f.includes('.tmp-')),
      'temp files renamed or removed',
    );
    assert.equal(await b.accounts.deleteUser('a0@example.com'), true);
    assert.equal(await a.mail.getMailbox('a0@example.com', 'INBOX'), undefined);
    await a.close();
    await b.close();
  });
});
