import assert from 'node:assert/strict';
import { ParsedArticle } from '../src/article/headers.js';
import { GATEWAY_HEADER } from '../src/index.js';
import { NntpTestClient } from './client.js';
import { articleText, PASSWORD, queuedMail, startRig, USER, type Rig } from './harness.js';

const sasl = Buffer.from(`\0${USER}\0${PASSWORD}`).toString('base64');

describe('NNTP POST and IHAVE (RFC 3977 §6.3)', () => {
  let rig: Rig;
  let c: NntpTestClient;
  beforeEach(async () => {
    rig = await startRig({ allowInsecureAuth: true, maxArticleSize: 4096 });
    c = await NntpTestClient.connect(rig.port);
    await c.readLine();
  });
  afterEach(async () => {
    c.destroy();
    await rig.close();
  });

  async function login(): Promise<void> {
    assert.match(await c.command(`AUTHINFO SASL PLAIN ${sasl}`), /^281 /);
  }

  /** POST with the article sent dot-stuffed; returns the final reply. */
  async function post(text: string): Promise<string> {
    assert.match(await c.command('POST'), /^340 /);
    const stuffed = text.replace(/^\./gm, '..');
    c.send(stuffed + '.\r\n');
    return c.readLine();
  }

  it('needs authentication', async () => {
    assert.match(await c.command('POST'), /^480 /);
    assert.match(await c.command('IHAVE <x@y>'), /^480 /);
  });

  it('stores a posting once, numbered in each group, with Message-ID, Date and Path added', async () => {
    await login();
    const reply = await post(
      articleText(
        { From: 'poster@example.test', Newsgroups: 'local.test,local.other,local.unknown', Subject: 'Hello' },
        '.leading dot\r\nbody\r\n',
      ),
    );
    assert.match(reply, /^240 /);
    const t = await rig.store.news.getGroup('local.test');
    const o = await rig.store.news.getGroup('local.other');
    assert.equal(t?.count, 1);
    assert.equal(o?.count, 1);
    const ref = await rig.store.news.articleByNumber('local.other', 1);
    assert.ok(ref);
    assert.equal((await rig.store.news.articleByNumber('local.test', 1))?.messageId, ref.messageId);
    const index = await rig.store.news.getIndex(ref.messageId);
    const headers = new Map(index!.headers.map(([k, v]) => [k.toLowerCase(), v]));
    assert.equal(headers.get('message-id'), ref.messageId);
    assert.equal(headers.get('path'), 'news.example.test!not-for-mail');
    assert.ok(headers.get('date'));
    // Read back over NNTP: the body's leading dot survived the round trip.
    await c.command('GROUP local.test');
    const body = await c.commandBlock('BODY 1');
    assert.deepEqual(body.lines, ['.leading dot', 'body']);
  });

  it('refuses articles without the required headers, duplicates, read-only groups, and too large ones', async () => {
    await login();
    assert.match(await post(articleText({ From: 'a@x', Newsgroups: 'local.test' })), /^441 .*Subject/);
    assert.match(await post(articleText({ Newsgroups: 'local.test', Subject: 's' })), /^441 .*From/);
    assert.match(await post(articleText({ From: 'a@x', Subject: 's' })), /^441 .*Newsgroups/);
    assert.match(
      await post(articleText({ From: 'a@x', Newsgroups: 'local.nowhere', Subject: 's' })),
      /^441 /,
    );
    assert.match(
      await post(articleText({ From: 'a@x', Newsgroups: 'local.readonly', Subject: 's' })),
      /^441 .*not permitted/,
    );
    const withId = articleText({
      From: 'a@x',
      Newsgroups: 'local.test',
      Subject: 's',
      'Message-ID': '<dup@x.test>',
    });
    assert.match(await post(withId), /^240 /);
    assert.match(await post(withId), /^441 .*duplicate/i);
    assert.match(
      await post(
        articleText({ From: 'a@x', Newsgroups: 'local.test', Subject: 's' }, 'x'.repeat(5000) + '\r\n'),
      ),
      /^441 .*larger/,
    );
    // The session goes on after every refusal.
    assert.equal((await rig.store.news.getGroup('local.test'))?.count, 1);
    assert.match(await c.command('DATE'), /^111 /);
  });

  it('IHAVE: 435 for a known article, 335/235 for a new one, 437 for a looped one', async () => {
    await login();
    await rig.store.news.post(
      ['local.test'],
      '<known@x.test>',
      Buffer.from(
        articleText({ From: 'a@x', Newsgroups: 'local.test', Subject: 's', 'Message-ID': '<known@x.test>' }),
      ),
    );
    assert.match(await c.command('IHAVE <known@x.test>'), /^435 /);
    assert.match(await c.command('IHAVE nobrackets'), /^501 /);
    assert.match(await c.command('IHAVE <new@x.test>'), /^335 /);
    c.send(
      articleText({
        Path: 'peer.example!origin',
        From: 'a@x',
        Newsgroups: 'local.test',
        Subject: 'via peer',
        'Message-ID': '<new@x.test>',
      }) + '.\r\n',
    );
    assert.match(await c.readLine(), /^235 /);
    const index = await rig.store.news.getIndex('<new@x.test>');
    assert.equal(index?.headers.find(([k]) => k === 'Path')?.[1], 'news.example.test!peer.example!origin');
    assert.match(await c.command('IHAVE <loop@x.test>'), /^335 /);
    c.send(
      articleText({
        Path: 'peer.example!news.example.test!origin',
        From: 'a@x',
        Newsgroups: 'local.test',
        Subject: 'loop',
        'Message-ID': '<loop@x.test>',
      }) + '.\r\n',
    );
    assert.match(await c.readLine(), /^437 /);
    assert.equal(await rig.store.news.hasMessageId('<loop@x.test>'), false);
  });

  it('mails a posted article to the group subscribers, marked', async () => {
    await login();
    await rig.store.news.addSubscriber('local.test', 'sub1@example.org');
    await rig.store.news.addSubscriber('local.other', 'SUB1@example.org');
    await rig.store.news.addSubscriber('local.other', 'sub2@example.org');
    assert.match(
      await post(articleText({ From: 'a@x', Newsgroups: 'local.test,local.other', Subject: 'to the list' })),
      /^240 /,
    );
    const queued = await queuedMail(rig.store);
    assert.equal(queued.length, 1);
    assert.deepEqual(queued[0].to, ['sub1@example.org', 'sub2@example.org']);
    assert.equal(queued[0].from, '');
    const mail = ParsedArticle.parse(queued[0].data);
    assert.match(mail.get(GATEWAY_HEADER) ?? '', /^news-to-mail/);
    assert.equal(mail.get('To'), 'test@example.test');
  });
});
