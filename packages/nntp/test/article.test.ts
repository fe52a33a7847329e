import assert from 'node:assert/strict';
import { ParsedArticle } from '../src/article/headers.js';
import { ArticleRejectedError, pathContains, prepareArticle } from '../src/article/prepare.js';

const base = {
  hostname: 'news.example',
  mode: 'post' as const,
  maxGroups: 5,
  now: new Date(Date.UTC(2026, 0, 1)),
};

function article(headers: string, body = 'Hello\r\n'): Buffer {
  return Buffer.from(`${headers}\r\n\r\n${body}`);
}

describe('article header block', () => {
  it('keeps unknown octets and folded fields intact when one field changes', () => {
    const raw = Buffer.concat([
      Buffer.from('From: a@b\r\nSubject: caf'),
      Buffer.from([0xc3, 0xa9]),
      Buffer.from('\r\nX-Long: one\r\n two\r\n\r\nbody\r\n'),
    ]);
    const parsed = ParsedArticle.parse(raw);
    assert.equal(parsed.get('x-long'), 'one two');
    parsed.set('Path', 'x!not-for-mail');
    const out = parsed.toBuffer();
    assert.ok(out.includes(Buffer.from([0xc3, 0xa9])));
    assert.ok(out.toString('latin1').includes('X-Long: one\r\n two\r\n'));
    assert.ok(out.toString('latin1').endsWith('\r\n\r\nbody\r\n'));
  });

  it('turns bare LF into CRLF and rejects malformed lines', () => {
    const parsed = ParsedArticle.parse(Buffer.from('From: a@b\nSubject: s\n\nbody\n'));
    assert.equal(parsed.toBuffer().toString(), 'From: a@b\r\nSubject: s\r\n\r\nbody\r\n');
    assert.throws(() => ParsedArticle.parse(Buffer.from('no colon here\r\n\r\n')));
    assert.throws(() => ParsedArticle.parse(Buffer.from(' folded: first\r\n\r\n')));
  });
});

describe('prepareArticle (RFC 5536 §3.1, RFC 5537 §3.5)', () => {
  it('adds Message-ID, Date and Path to a new posting', () => {
    const p = prepareArticle(article('From: a@b\r\nNewsgroups: x.y, x.z,x.y\r\nSubject: hi'), base);
    assert.deepEqual(p.groups, ['x.y', 'x.z']);
    assert.match(p.messageId, /^<[^@]+@news\.example>$/);
    const h = ParsedArticle.parse(p.data);
    assert.equal(h.get('Message-ID'), p.messageId);
    assert.equal(h.get('Date'), 'Thu, 1 Jan 2026 00:00:00 +0000');
    assert.equal(h.get('Path'), 'news.example!not-for-mail');
    assert.ok(p.data.toString().endsWith('\r\n\r\nHello\r\n'));
  });

  it('keeps a given Message-ID and prepends to an existing Path', () => {
    const p = prepareArticle(
      article('From: a@b\r\nNewsgroups: x.y\r\nSubject: hi\r\nMessage-ID: <k@e>\r\nPath: up!not-for-mail'),
      base,
    );
    assert.equal(p.messageId, '<k@e>');
    assert.equal(ParsedArticle.parse(p.data).get('Path'), 'news.example!up!not-for-mail');
  });

  it('refuses missing or repeated mandatory headers and bad names', () => {
    const cases = [
      'Newsgroups: x.y\r\nSubject: hi',
      'From: a@b\r\nSubject: hi',
      'From: a@b\r\nNewsgroups: x.y',
      'From: a@b\r\nNewsgroups: x.y\r\nSubject: hi\r\nSubject: again',
      'From: a@b\r\nNewsgroups: ../etc\r\nSubject: hi',
      'From: a@b\r\nNewsgroups: a,b,c,d,e,f\r\nSubject: hi',
      'From: a@b\r\nNewsgroups: x.y\r\nSubject: hi\r\nMessage-ID: no-brackets',
    ];
    for (const headers of cases) {
      assert.throws(() => prepareArticle(article(headers), base), ArticleRejectedError, headers);
    }
  });

  it('IHAVE: the Message-ID must match the offer, and our own Path entry means a loop', () => {
    const opts = { ...base, mode: 'ihave' as const, messageId: '<m@e>' };
    const ok = prepareArticle(
      article('From: a@b\r\nNewsgroups: x.y\r\nSubject: hi\r\nPath: peer!not-for-mail'),
      opts,
    );
    assert.equal(ParsedArticle.parse(ok.data).get('Message-ID'), '<m@e>');
    assert.throws(
      () =>
        prepareArticle(article('From: a@b\r\nNewsgroups: x.y\r\nSubject: hi\r\nMessage-ID: <other@e>'), opts),
      ArticleRejectedError,
    );
    assert.throws(
      () =>
        prepareArticle(
          article('From: a@b\r\nNewsgroups: x.y\r\nSubject: hi\r\nPath: peer!News.Example!x'),
          opts,
        ),
      ArticleRejectedError,
    );
    assert.equal(pathContains('a!b!c', 'b'), true);
    assert.equal(pathContains('a!bb!c', 'b'), false);
  });
});
