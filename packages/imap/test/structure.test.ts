/**
 * BODYSTRUCTURE, BODY and ENVELOPE for nested multipart/mixed + multipart/alternative +
 * message/rfc822, checked against answers written out by hand from RFC 3501 §7.4.2 and §9
 * (body-type-mpart, body-type-text, body-type-msg, body-ext-1part, body-ext-mpart, envelope).
 * The envelope is the one of RFC 3501 §8's example; addresses in a list are not separated by
 * SP, as the grammar (env-cc = "(" 1*address ")") says.
 */
import assert from 'node:assert/strict';
import type { Envelope, MessageIndex, MimePart } from '@postern/store';
import { bodyStructure, envelope } from '../src/index.js';
import { filterHeader, findPart, sectionRange } from '../src/fetch-render.js';

function part(p: Partial<MimePart> & Pick<MimePart, 'path' | 'type' | 'subtype'>): MimePart {
  return {
    params: {},
    id: null,
    description: null,
    encoding: '7BIT',
    disposition: null,
    language: null,
    location: null,
    md5: null,
    headerStart: 0,
    bodyStart: 0,
    bodyEnd: 0,
    lines: 0,
    parts: [],
    ...p,
  };
}

const RFC_ENVELOPE: Envelope = {
  date: 'Wed, 17 Jul 1996 02:23:25 -0700 (PDT)',
  subject: 'IMAP4rev1 WG mtg summary and minutes',
  from: [{ name: 'Terry Gray', adl: null, mailbox: 'gray', host: 'cac.washington.edu' }],
  sender: null,
  replyTo: null,
  to: [{ name: null, adl: null, mailbox: 'imap', host: 'cac.washington.edu' }],
  cc: [
    { name: null, adl: null, mailbox: 'minutes', host: 'CNRI.Reston.VA.US' },
    { name: 'John Klensin', adl: null, mailbox: 'KLENSIN', host: 'MIT.EDU' },
  ],
  bcc: null,
  inReplyTo: null,
  messageId: '<B27397-0100000@cac.washington.edu>',
};

const RFC_ENVELOPE_TEXT =
  '("Wed, 17 Jul 1996 02:23:25 -0700 (PDT)" "IMAP4rev1 WG mtg summary and minutes" ' +
  '(("Terry Gray" NIL "gray" "cac.washington.edu")) (("Terry Gray" NIL "gray" "cac.washington.edu")) ' +
  '(("Terry Gray" NIL "gray" "cac.washington.edu")) ((NIL NIL "imap" "cac.washington.edu")) ' +
  '((NIL NIL "minutes" "CNRI.Reston.VA.US")("John Klensin" NIL "KLENSIN" "MIT.EDU")) NIL NIL ' +
  '"<B27397-0100000@cac.washington.edu>")';

const enclosed = part({
  path: '2.1',
  type: 'text',
  subtype: 'plain',
  params: { charset: 'us-ascii' },
  headerStart: 400,
  bodyStart: 450,
  bodyEnd: 480,
  lines: 2,
});
const tree = part({
  path: '',
  type: 'multipart',
  subtype: 'mixed',
  params: { boundary: 'outer' },
  headerStart: 0,
  bodyStart: 100,
  bodyEnd: 900,
  parts: [
    part({
      path: '1',
      type: 'multipart',
      subtype: 'alternative',
      params: { boundary: 'alt' },
      headerStart: 110,
      bodyStart: 150,
      bodyEnd: 350,
      parts: [
        part({
          path: '1.1',
          type: 'text',
          subtype: 'plain',
          params: { charset: 'utf-8' },
          headerStart: 160,
          bodyStart: 200,
          bodyEnd: 220,
          lines: 2,
        }),
        part({
          path: '1.2',
          type: 'text',
          subtype: 'html',
          params: { charset: 'utf-8' },
          encoding: 'QUOTED-PRINTABLE',
          headerStart: 230,
          bodyStart: 290,
          bodyEnd: 335,
          lines: 3,
        }),
      ],
    }),
    part({
      path: '2',
      type: 'message',
      subtype: 'rfc822',
      headerStart: 360,
      bodyStart: 400,
      bodyEnd: 520,
      lines: 6,
      message: { envelope: RFC_ENVELOPE, root: enclosed },
    }),
    part({
      path: '3',
      type: 'application',
      subtype: 'pdf',
      params: { name: 'a.pdf' },
      encoding: 'BASE64',
      disposition: { type: 'attachment', params: { filename: 'a.pdf' } },
      headerStart: 530,
      bodyStart: 600,
      bodyEnd: 700,
    }),
  ],
});

describe('BODYSTRUCTURE and ENVELOPE (RFC 3501 §7.4.2)', () => {
  it('renders the envelope of RFC 3501 §8, Sender and Reply-To defaulting to From', () => {
    assert.equal(envelope(RFC_ENVELOPE), RFC_ENVELOPE_TEXT);
  });

  it('renders BODYSTRUCTURE with extension data', () => {
    const want =
      '(' +
      '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 20 2 NIL NIL NIL NIL)' +
      '("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 45 3 NIL NIL NIL NIL)' +
      ' "ALTERNATIVE" ("BOUNDARY" "alt") NIL NIL NIL)' +
      `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 120 ${RFC_ENVELOPE_TEXT} ` +
      '("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 30 2 NIL NIL NIL NIL) 6 NIL NIL NIL NIL)' +
      '("APPLICATION" "PDF" ("NAME" "a.pdf") NIL NIL "BASE64" 100 NIL ("ATTACHMENT" ("FILENAME" "a.pdf")) NIL NIL)' +
      ' "MIXED" ("BOUNDARY" "outer") NIL NIL NIL)';
    assert.equal(bodyStructure(tree, true), want);
  });

  it('renders BODY without extension data', () => {
    const want =
      '(' +
      '(("TEXT" "PLAIN" ("CHARSET" "utf-8") NIL NIL "7BIT" 20 2)' +
      '("TEXT" "HTML" ("CHARSET" "utf-8") NIL NIL "QUOTED-PRINTABLE" 45 3) "ALTERNATIVE")' +
      `("MESSAGE" "RFC822" NIL NIL NIL "7BIT" 120 ${RFC_ENVELOPE_TEXT} ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 30 2) 6)` +
      '("APPLICATION" "PDF" ("NAME" "a.pdf") NIL NIL "BASE64" 100) "MIXED")';
    assert.equal(bodyStructure(tree, false), want);
  });

  it('numbers parts as RFC 3501 §6.4.5 does', () => {
    assert.equal(findPart(tree, [1, 2])?.path, '1.2');
    assert.equal(findPart(tree, [2])?.path, '2');
    assert.equal(findPart(tree, [2, 1])?.path, '2.1'); // inside the enclosed message
    assert.equal(findPart(tree, [3])?.path, '3');
    assert.equal(findPart(tree, [4]), undefined);
    assert.equal(findPart(tree, [3, 1])?.path, '3'); // part 1 of a non-multipart is itself
    const single = part({ path: '', type: 'text', subtype: 'plain', bodyStart: 50, bodyEnd: 80 });
    assert.equal(findPart(single, [1]), single);
    assert.equal(findPart(single, [2]), undefined);
  });

  it('maps sections to byte ranges', () => {
    const index = { size: 900, root: tree } as MessageIndex;
    assert.deepEqual(sectionRange(index, { part: [], text: '', fields: [] })?.range, { start: 0, end: 900 });
    assert.deepEqual(sectionRange(index, { part: [], text: 'HEADER', fields: [] })?.range, {
      start: 0,
      end: 100,
    });
    assert.deepEqual(sectionRange(index, { part: [], text: 'TEXT', fields: [] })?.range, {
      start: 100,
      end: 900,
    });
    assert.deepEqual(sectionRange(index, { part: [1, 2], text: '', fields: [] })?.range, {
      start: 290,
      end: 335,
    });
    assert.deepEqual(sectionRange(index, { part: [1, 2], text: 'MIME', fields: [] })?.range, {
      start: 230,
      end: 290,
    });
    assert.deepEqual(sectionRange(index, { part: [2], text: 'HEADER', fields: [] })?.range, {
      start: 400,
      end: 450,
    });
    assert.deepEqual(sectionRange(index, { part: [2], text: 'TEXT', fields: [] })?.range, {
      start: 450,
      end: 480,
    });
    assert.equal(sectionRange(index, { part: [3], text: 'HEADER', fields: [] }), undefined);
  });

  it('filters header fields, folded lines included', () => {
    const header = Buffer.from('From: a@b\r\nSubject: one\r\n two\r\nTo: c@d\r\n\r\n');
    assert.equal(
      filterHeader(header, { part: [], text: 'HEADER.FIELDS', fields: ['SUBJECT', 'TO'] }).toString(),
      'Subject: one\r\n two\r\nTo: c@d\r\n\r\n',
    );
    assert.equal(
      filterHeader(header, { part: [], text: 'HEADER.FIELDS.NOT', fields: ['SUBJECT'] }).toString(),
      'From: a@b\r\nTo: c@d\r\n\r\n',
    );
  });
});
