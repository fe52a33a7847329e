import assert from 'node:assert/strict';
import {
  formatDate,
  isArticleMessageId,
  isMessageId,
  isNewsgroupName,
  MAX_ARTICLE_NUMBER,
  parseArticleNumber,
  parseDateTime,
  parseRange,
} from '../src/syntax.js';

describe('NNTP argument syntax', () => {
  it('parses message-ids (RFC 3977 §3.6)', () => {
    assert.equal(isMessageId('<a@b>'), true);
    assert.equal(isMessageId('<a>'), true);
    assert.equal(isMessageId('<a b@c>'), false);
    assert.equal(isMessageId('<a>b>'), false);
    assert.equal(isMessageId('<>'), false);
    assert.equal(isMessageId(`<${'x'.repeat(248)}>`), true);
    assert.equal(isMessageId(`<${'x'.repeat(249)}>`), false);
    assert.equal(isArticleMessageId('<a@b>'), true);
    assert.equal(isArticleMessageId('<ab>'), false);
    assert.equal(isArticleMessageId('<@b>'), false);
  });

  it('parses article numbers and ranges', () => {
    assert.equal(parseArticleNumber('42'), 42);
    assert.equal(parseArticleNumber('0'), undefined);
    assert.equal(parseArticleNumber('-1'), undefined);
    assert.equal(parseArticleNumber(String(MAX_ARTICLE_NUMBER + 1)), undefined);
    assert.deepEqual(parseRange('5'), { low: 5, high: 5 });
    assert.deepEqual(parseRange('5-'), { low: 5, high: MAX_ARTICLE_NUMBER });
    assert.deepEqual(parseRange('5-9'), { low: 5, high: 9 });
    assert.deepEqual(parseRange('9-5'), { low: 9, high: 5 });
    assert.equal(parseRange('a-b'), undefined);
    assert.equal(parseRange('-5'), undefined);
  });

  it('checks newsgroup names (RFC 5536 §3.1.4)', () => {
    assert.equal(isNewsgroupName('comp.lang.c++'), true);
    assert.equal(isNewsgroupName('a_b-c'), true);
    assert.equal(isNewsgroupName('..'), false);
    assert.equal(isNewsgroupName('a..b'), false);
    assert.equal(isNewsgroupName('a/b'), false);
    assert.equal(isNewsgroupName('a.'), false);
    assert.equal(isNewsgroupName('x'.repeat(201)), false);
  });

  it('parses NEWGROUPS dates with 2- and 4-digit years (RFC 3977 §7.3.2)', () => {
    const now = new Date(Date.UTC(2026, 10, 23));
    assert.equal(parseDateTime('20260101', '120000', 'GMT', now)?.toISOString(), '2026-01-01T12:00:00.000Z');
    assert.equal(parseDateTime('260101', '000000', 'GMT', now)?.getUTCFullYear(), 2026);
    assert.equal(parseDateTime('990101', '000000', 'GMT', now)?.getUTCFullYear(), 1999);
    assert.equal(parseDateTime('20260231', '000000', 'GMT', now), undefined);
    assert.equal(parseDateTime('20260101', '250000', 'GMT', now), undefined);
    assert.equal(parseDateTime('20260101', '000000', 'UTC', now), undefined);
    assert.equal(parseDateTime('2026011', '000000', undefined, now), undefined);
  });

  it('formats DATE replies', () => {
    assert.equal(formatDate(new Date(Date.UTC(2026, 0, 2, 3, 4, 5))), '20260102030405');
  });
});
