import assert from 'node:assert/strict';
import type { Store } from '@postern/store';
import { ParsedArticle } from '../src/article/headers.js';
import { gatewayMailToNews, GATEWAY_HEADER, mailToNews, newsToMail } from '../src/index.js';
import { articleText, disposeStores, makeStore, queuedMail } from './harness.js';

const mail = (fields: Record<string, string>, body = 'Mail body\r\n') =>
  Buffer.from(articleText(fields, body));

describe('mail <-> news gateway', () => {
  afterEach(() => disposeStores());
  let store: Store;
  beforeEach(async () => {
    store = await makeStore();
    await store.news.addSubscriber('local.test', 'alice@example.org');
  });

  it('mail to a group address becomes an article: Newsgroups set, Message-ID kept, marked', async () => {
    const ok = await mailToNews(
      store,
      'TEST@example.test',
      mail({
        From: 'bob@example.org',
        To: 'test@example.test',
        Subject: 'From mail',
        'Message-ID': '<m1@example.org>',
        Newsgroups: 'evil.group',
      }),
      { hostname: 'gw.example.test' },
    );
    assert.equal(ok, true);
    const ref = await store.news.articleByNumber('local.test', 1);
    assert.equal(ref?.messageId, '<m1@example.org>');
    const index = await store.news.getIndex('<m1@example.org>');
    const h = new Map(index!.headers.map(([k, v]) => [k.toLowerCase(), v]));
    assert.equal(h.get('newsgroups'), 'local.test');
    assert.equal(h.get('path'), 'gw.example.test!not-for-mail');
    assert.match(h.get(GATEWAY_HEADER.toLowerCase()) ?? '', /^mail-to-news/);
    // Only local.test got it.
    assert.equal((await store.news.getGroup('local.other'))?.count, 0);
  });

  it('supplies Subject, Date and Message-ID when mail lacks them; refuses mail without From', async () => {
    assert.equal(await mailToNews(store, 'test@example.test', mail({ From: 'bob@example.org' })), true);
    const ref = await store.news.articleByNumber('local.test', 1);
    assert.match(ref!.messageId, /^<.+@localhost>$/);
    const h = new Map(
      (await store.news.getIndex(ref!.messageId))!.headers.map(([k, v]) => [k.toLowerCase(), v]),
    );
    assert.equal(h.get('subject'), '(no subject)');
    assert.ok(h.get('date'));
    const res = await gatewayMailToNews(store, 'test@example.test', mail({ Subject: 'anonymous' }));
    assert.equal(res.status, 'rejected');
  });

  it('ignores addresses that are not bound to a group', async () => {
    const res = await gatewayMailToNews(store, 'nobody@example.test', mail({ From: 'a@b', Subject: 's' }));
    assert.equal(res.status, 'not-a-group');
  });

  it('stores the same mail once', async () => {
    const m = mail({ From: 'bob@example.org', Subject: 's', 'Message-ID': '<same@example.org>' });
    assert.equal(await mailToNews(store, 'test@example.test', m), true);
    assert.equal((await gatewayMailToNews(store, 'test@example.test', m)).status, 'duplicate');
    assert.equal((await store.news.getGroup('local.test'))?.count, 1);
  });

  it('news to mail: queues one message for the subscribers of all the groups, marked', async () => {
    await store.news.addSubscriber('local.other', 'carol@example.org');
    await store.news.addSubscriber('local.other', 'Alice@example.org');
    const article = mail({
      From: 'a@x',
      Newsgroups: 'local.test,local.other',
      Subject: 'news',
      'Message-ID': '<n1@x>',
    });
    const res = await newsToMail(store, ['local.test', 'local.other'], article, {
      hostname: 'gw.example.test',
    });
    assert.equal(res.status, 'queued');
    const queued = await queuedMail(store);
    assert.equal(queued.length, 1);
    assert.deepEqual(queued[0].to, ['alice@example.org', 'carol@example.org']);
    const h = ParsedArticle.parse(queued[0].data);
    assert.equal(h.get(GATEWAY_HEADER), 'news-to-mail; by=gw.example.test');
    assert.equal(h.get('Message-ID'), '<n1@x>');
    assert.equal((await newsToMail(store, ['local.readonly'], article)).status, 'no-subscribers');
  });

  it('never carries back what it carried: mail -> news -> (no mail), news -> mail -> (no news)', async () => {
    // Mail that became news is not mailed back out to the subscribers.
    const m = mail({ From: 'bob@example.org', Subject: 'from mail', 'Message-ID': '<loop1@example.org>' });
    assert.equal(await mailToNews(store, 'test@example.test', m), true);
    const chunks: Buffer[] = [];
    for await (const c of await store.news.openArticle('<loop1@example.org>'))
      chunks.push(Buffer.from(c as Uint8Array));
    const stored = Buffer.concat(chunks);
    const back = await newsToMail(store, ['local.test'], stored);
    assert.equal(back.status, 'loop');
    assert.equal((await queuedMail(store)).length, 0);

    // News that became mail, sent back to the group's address (a subscriber forwarding it, or
    // the group subscribed to itself), is not posted again, even under a new Message-ID.
    const article = mail({
      From: 'a@x',
      Newsgroups: 'local.test',
      Subject: 'from news',
      'Message-ID': '<loop2@x>',
    });
    await store.news.post(['local.test'], '<loop2@x>', article);
    await newsToMail(store, ['local.test'], article);
    const [out] = await queuedMail(store);
    const forwarded = ParsedArticle.parse(out.data);
    forwarded.set('Message-ID', '<fresh@forwarder>');
    const res = await gatewayMailToNews(store, 'test@example.test', forwarded.toBuffer());
    assert.equal(res.status, 'loop');
    assert.equal(await store.news.hasMessageId('<fresh@forwarder>'), false);
    assert.equal((await store.news.getGroup('local.test'))?.count, 2);
  });

  it('does not gateway automatic mail (RFC 3834) or delivery reports into news', async () => {
    const auto = mail({ From: 'daemon@x', Subject: 'Out of office', 'Auto-Submitted': 'auto-replied' });
    assert.equal((await gatewayMailToNews(store, 'test@example.test', auto)).status, 'loop');
    const dsn = mail({
      From: 'MAILER-DAEMON@x',
      Subject: 'Undelivered',
      'Content-Type': 'multipart/report; report-type=delivery-status; boundary=x',
    });
    assert.equal((await gatewayMailToNews(store, 'test@example.test', dsn)).status, 'loop');
    const human = mail({ From: 'bob@x', Subject: 'hi', 'Auto-Submitted': 'no' });
    assert.equal(await mailToNews(store, 'test@example.test', human), true);
  });

  it('does not mail the group its own articles', async () => {
    await store.news.addSubscriber('local.test', 'test@example.test');
    const res = await newsToMail(
      store,
      ['local.test'],
      mail({ From: 'a@x', Newsgroups: 'local.test', Subject: 's' }),
    );
    assert.deepEqual(res.recipients, ['alice@example.org']);
  });
});
