/**
 * News on the fs backend: a Message-ID is accepted once across handles, and a claim left by
 * a poster that died before filing the article does not block the article forever.
 */
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../src/fs/index.js';
import { hashName } from '../src/fs/layout.js';
import { StoreError, type Store } from '../src/types.js';

describe('fs store: news', () => {
  let dir: string;
  let a: Store;
  let b: Store;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-news-'));
    a = await openFsStore(dir);
    b = await openFsStore(dir);
    await a.news.createGroup('local.one');
    await a.news.createGroup('local.two');
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('the same Message-ID posted through two handles at once is filed once', async () => {
    const results = await Promise.allSettled([
      a.news.post(['local.one'], '<same@example.com>', 'Subject: a\r\n\r\na\r\n'),
      b.news.post(['local.one', 'local.two'], '<same@example.com>', 'Subject: b\r\n\r\nb\r\n'),
    ]);
    const ok = results.filter((r) => r.status === 'fulfilled');
    const dup = results.filter(
      (r) => r.status === 'rejected' && r.reason instanceof StoreError && r.reason.code === 'DUPLICATE',
    );
    assert.equal(ok.length, 1);
    assert.equal(dup.length, 1);
    const counts = (await b.news.listGroups()).map((g) => g.count);
    assert.equal(
      counts.reduce((x, y) => x + y, 0),
      (ok[0] as PromiseFulfilledResult<unknown[]>).value.length,
    );
  });

  it('numbers articles per group, and another handle sees them with their overview', async () => {
    const refs = await a.news.post(
      ['local.two', 'local.one'],
      '<x1@example.com>',
      'Subject: one\r\n\r\n1\r\n',
    );
    await a.news.post(['local.one'], '<x2@example.com>', 'Subject: two\r\n\r\n2\r\n');
    assert.deepEqual(refs.map((r) => [r.group, r.number]).sort(), [
      ['local.one', 1],
      ['local.two', 1],
    ]);
    assert.deepEqual(await b.news.numbers('local.one', 1, 10), [1, 2]);
    assert.equal((await b.news.overview('local.one', 2, 2)).length, 1);
    assert.equal((await b.news.articleByNumber('local.one', 2))?.messageId, '<x2@example.com>');
    assert.deepEqual(await b.news.articlesSince(new Date(0), (g) => g === 'local.two'), ['<x1@example.com>']);
  });

  it('takes over a claim whose poster died before filing the article', async () => {
    const articles = join(dir, 'news', 'articles');
    await mkdir(articles, { recursive: true });
    const claim = join(articles, `${hashName('<orphan@example.com>')}.claim`);
    await writeFile(
      claim,
      JSON.stringify({ messageId: '<orphan@example.com>', groups: ['local.one'], pid: 1 }),
    );
    assert.equal(await a.news.hasMessageId('<orphan@example.com>'), false);
    const refs = await a.news.post(['local.one'], '<orphan@example.com>', 'Subject: o\r\n\r\no\r\n');
    assert.equal(refs.length, 1);
    assert.equal(await b.news.hasMessageId('<orphan@example.com>'), true);
  });
});
