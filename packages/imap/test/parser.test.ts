/** Parser table drawn from RFC 3501 §9's formal syntax, and modified UTF-7 (RFC 3501 §5.1.3). */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Reader, decodeMutf7, encodeMutf7, parseSequenceText, formatSet, ImapError } from '../src/index.js';
import { parseFetchRequest } from '../src/fetch-items.js';
import { parseSearch } from '../src/search.js';

function reader(text: string, literals: string[] = []): Reader {
  return new Reader(
    text,
    literals.map((l) => Buffer.from(l)),
  );
}

describe('imap parser', () => {
  const astrings: Array<[string, string[], string]> = [
    ['atom', [], 'atom'],
    ['"quoted string"', [], 'quoted string'],
    ['"esc \\" and \\\\"', [], 'esc " and \\'],
    ['\0', ['literal\r\nwith CRLF'], 'literal\r\nwith CRLF'],
    ['INBOX]', [], 'INBOX]'], // ASTRING-CHAR admits resp-specials ']'
    ['""', [], ''],
  ];
  for (const [text, lits, want] of astrings) {
    it(`astring ${JSON.stringify(text)}`, () => {
      const r = reader(text, lits);
      assert.equal(r.astring(), want);
      r.end();
    });
  }

  const bad: Array<[string, (r: Reader) => unknown]> = [
    ['"unterminated', (r) => r.astring()],
    ['"bad \\n escape"', (r) => r.astring()],
    ['(a b', (r) => r.list(() => r.atom())],
    ['{', (r) => r.atom()],
    ['', (r) => r.astring()],
    ['a%b', (r) => (r.astring(), r.end())],
  ];
  for (const [text, fn] of bad) {
    it(`rejects ${JSON.stringify(text)} with BAD`, () => {
      assert.throws(
        () => fn(reader(text)),
        (e: unknown) => e instanceof ImapError && e.status === 'BAD',
      );
    });
  }

  it('parses nstring, lists and flags', () => {
    const r = reader('NIL ("a" b) (\\Seen $Label \\Flagged)');
    assert.equal(r.nstring(), null);
    r.sp();
    assert.deepEqual(
      r.list(() => r.astring()),
      ['a', 'b'],
    );
    r.sp();
    assert.deepEqual(
      r.list(() => r.flag()),
      ['\\Seen', '$Label', '\\Flagged'],
    );
    r.end();
  });

  it('parses sequence sets', () => {
    assert.deepEqual(parseSequenceText('1,3:5,7:*'), [
      { start: 1, end: 1 },
      { start: 3, end: 5 },
      { start: 7, end: Infinity },
    ]);
    assert.deepEqual(parseSequenceText('5:2'), [{ start: 2, end: 5 }]);
    for (const badSet of ['0', '1:0', '1::2', 'a', '1,', '4294967296']) {
      assert.throws(() => parseSequenceText(badSet), ImapError, badSet);
    }
    assert.equal(formatSet([5, 1, 2, 3, 9]), '1:3,5,9');
  });

  it('parses FETCH items, macros, sections and partials', () => {
    const req = parseFetchRequest(
      reader(
        '(UID BODY.PEEK[HEADER.FIELDS (From "Subject")]<0.100> BODY[1.2.MIME] BODY[] RFC822.SIZE) (CHANGEDSINCE 12345)',
      ),
    );
    assert.equal(req.changedSince, 12345);
    assert.deepEqual(req.items[1], {
      kind: 'section',
      peek: true,
      section: { part: [], text: 'HEADER.FIELDS', fields: ['FROM', 'SUBJECT'] },
      partial: { origin: 0, length: 100 },
    });
    assert.deepEqual(req.items[2], {
      kind: 'section',
      peek: false,
      section: { part: [1, 2], text: 'MIME', fields: [] },
      partial: undefined,
    });
    assert.equal(parseFetchRequest(reader('FAST')).items.length, 3);
    assert.equal(parseFetchRequest(reader('BODY[TEXT]')).items.length, 1);
    assert.throws(() => parseFetchRequest(reader('(BODY[MIME])')), ImapError); // MIME needs a part
    assert.throws(() => parseFetchRequest(reader('(BOGUS)')), ImapError);
    assert.throws(() => parseFetchRequest(reader('(BODY[1.]')), ImapError);
  });

  it('parses every RFC 3501 search key', () => {
    const keys = [
      'ALL',
      'ANSWERED',
      'BCC "x"',
      'BEFORE 1-Feb-1994',
      'BODY text',
      'CC x',
      'DELETED',
      'DRAFT',
      'FLAGGED',
      'FROM "Smith"',
      'HEADER X-Spam yes',
      'KEYWORD $Foo',
      'LARGER 100',
      'NEW',
      'NOT SEEN',
      'OLD',
      'ON 1-Feb-1994',
      'OR SEEN FLAGGED',
      'RECENT',
      'SEEN',
      'SENTBEFORE 1-Feb-1994',
      'SENTON "1-Feb-1994"',
      'SENTSINCE 1-Feb-1994',
      'SINCE 1-Feb-1994',
      'SMALLER 5',
      'SUBJECT hi',
      'TEXT hi',
      'TO x',
      'UID 1:*',
      'UNANSWERED',
      'UNDELETED',
      'UNDRAFT',
      'UNFLAGGED',
      'UNKEYWORD $Foo',
      'UNSEEN',
      '1:3,5',
      '(SEEN FLAGGED)',
      'MODSEQ 5',
    ];
    for (const k of keys) assert.doesNotThrow(() => parseSearch(reader(k)), k);
    assert.doesNotThrow(() => parseSearch(reader('CHARSET UTF-8 SUBJECT \0', ['caf\u00e9'])));
    assert.throws(
      () => parseSearch(reader('CHARSET KOI8-R ALL')),
      (e: unknown) => e instanceof ImapError && e.code?.startsWith('BADCHARSET') === true,
    );
    assert.throws(() => parseSearch(reader('BEFORE 31-Foo-2020')), ImapError);
    assert.throws(() => parseSearch(reader('NOSUCHKEY')), ImapError);
  });
});

describe('modified UTF-7 (RFC 3501 §5.1.3)', () => {
  it('matches the RFC example and known names', () => {
    assert.equal(
      encodeMutf7('~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e'),
      '~peter/mail/&U,BTFw-/&ZeVnLIqe-',
    );
    assert.equal(
      decodeMutf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-'),
      '~peter/mail/\u53f0\u5317/\u65e5\u672c\u8a9e',
    );
    assert.equal(encodeMutf7('Entw\u00fcrfe & more'), 'Entw&APw-rfe &- more');
    assert.equal(decodeMutf7('&-'), '&');
  });
  it('refuses malformed input', () => {
    for (const s of ['&', '&U,BTFw', '&AGE-' /* encodes ASCII 'a' */, 'caf\u00e9', '&!!-'])
      assert.equal(decodeMutf7(s), undefined, s);
  });
  it('round-trips any string', () => {
    fc.assert(fc.property(fc.string({ unit: 'binary' }), (s) => decodeMutf7(encodeMutf7(s)) === s));
  });
});
