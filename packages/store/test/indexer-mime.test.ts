/** The indexer on the finer MIME points IMAP FETCH relies on (RFC 3501 §6.4.5, §7.4.2). */
import assert from 'node:assert/strict';
import { decodeWords, indexMessage } from '../src/indexer/index.js';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');
const slice = (b: Buffer, s: number, e: number) => b.subarray(s, e).toString('utf8');

describe('message indexer: MIME details', () => {
  it('RFC 2047 encoded words decode for search; ENVELOPE keeps them raw', async () => {
    assert.equal(decodeWords('=?utf-8?q?Gr=C3=BC=C3=9Fe?= =?ISO-8859-1?B?RnLkdWxlaW4=?='), 'GrüßeFräulein');
    assert.equal(decodeWords('=?bogus'), '=?bogus');
    const m = crlf(['Subject: =?utf-8?B?w6nDqMOg?=', 'From: =?utf-8?q?Andr=C3=A9?= <andre@x.test>', '', 'b']);
    const idx = await indexMessage(m);
    assert.equal(idx.envelope.subject, '=?utf-8?B?w6nDqMOg?=');
    assert.equal(decodeWords(idx.envelope.subject!), 'éèà');
    assert.equal(idx.envelope.from?.[0]?.name, '=?utf-8?q?Andr=C3=A9?=');
  });

  it('8-bit UTF-8 header text (RFC 6532) is kept as text, not mojibake', async () => {
    const idx = await indexMessage(
      crlf(['Subject: Straße über Łódź', 'From: Jörg <jörg@exämple.test>', '', 'x']),
    );
    assert.equal(idx.envelope.subject, 'Straße über Łódź');
    assert.equal(idx.envelope.from?.[0]?.host, 'exämple.test');
  });

  it('RFC 2231 parameters, disposition, language, location, md5, description', async () => {
    const m = crlf([
      'Content-Type: application/pdf;',
      " name*0*=utf-8''R%C3%A9sum;",
      ' name*1=".pdf"',
      'Content-Disposition: attachment; filename="cv.pdf"; size=10',
      'Content-Language: en, de',
      'Content-Location: http://x.test/cv.pdf',
      'Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==',
      'Content-Description: my CV',
      'Content-Transfer-Encoding: Base64',
      '',
      'AAAA',
    ]);
    const root = (await indexMessage(m)).root;
    assert.equal(root.params.name, 'Résum.pdf');
    assert.deepEqual(root.disposition, { type: 'attachment', params: { filename: 'cv.pdf', size: '10' } });
    assert.deepEqual(root.language, ['en', 'de']);
    assert.equal(root.location, 'http://x.test/cv.pdf');
    assert.equal(root.md5, 'Q2hlY2sgSW50ZWdyaXR5IQ==');
    assert.equal(root.description, 'my CV');
    assert.equal(root.encoding, 'BASE64');
  });

  it('multipart/digest parts default to message/rfc822 (RFC 2046 §5.1.5)', async () => {
    const m = crlf([
      'Content-Type: multipart/digest; boundary=d',
      '',
      '--d',
      '',
      'Subject: one',
      '',
      'first',
      '--d--',
      '',
    ]);
    const part = (await indexMessage(m)).root.parts[0]!;
    assert.equal(`${part.type}/${part.subtype}`, 'message/rfc822');
    assert.equal(part.message?.envelope.subject, 'one');
    assert.equal(slice(m, part.message!.root.bodyStart, part.message!.root.bodyEnd), 'first');
  });

  it('an embedded multipart message: paths, MIME header offsets, line counts', async () => {
    const m = crlf([
      'Content-Type: multipart/mixed; boundary=o',
      '',
      '--o',
      'Content-Type: message/rfc822',
      '',
      'Subject: inner',
      'Content-Type: multipart/alternative; boundary=i',
      '',
      '--i',
      'Content-Type: text/plain',
      '',
      'one',
      'two',
      '--i',
      'Content-Type: text/html',
      '',
      '<b>x</b>',
      '--i--',
      '--o--',
      '',
    ]);
    const idx = await indexMessage(m);
    const fwd = idx.root.parts[0]!;
    const inner = fwd.message!.root;
    assert.equal(`${inner.type}/${inner.subtype}`, 'multipart/alternative');
    // RFC 3501 §6.4.5: parts of an embedded message are numbered under the message part.
    assert.deepEqual(
      inner.parts.map((p) => p.path),
      ['1.1', '1.2'],
    );
    const [plain, html] = inner.parts;
    assert.equal(
      slice(m, plain!.headerStart, plain!.bodyStart),
      'Content-Type: text/plain\r\n\r\n',
      'BODY[1.1.MIME]',
    );
    assert.equal(slice(m, plain!.bodyStart, plain!.bodyEnd), 'one\r\ntwo');
    assert.equal(plain!.lines, 2);
    assert.equal(slice(m, html!.bodyStart, html!.bodyEnd), '<b>x</b>');
    assert.equal(
      slice(m, inner.headerStart, inner.bodyStart),
      'Subject: inner\r\nContent-Type: multipart/alternative; boundary=i\r\n\r\n',
      'BODY[1.HEADER]',
    );
    assert.equal(fwd.lines, 13);
    assert.equal(idx.root.lines, 0, 'multiparts have no line count');
  });

  it('bare LF messages and a last line without a line ending', async () => {
    const m = Buffer.from('Subject: lf\nContent-Type: multipart/mixed; boundary=b\n\n--b\n\nx\ny\n--b--\n');
    const p = (await indexMessage(m)).root.parts[0]!;
    assert.equal(slice(m, p.bodyStart, p.bodyEnd), 'x\ny');
    assert.equal(p.lines, 2);
    const n = Buffer.from('Subject: s\r\n\r\nno newline at end');
    const idx = await indexMessage(n);
    assert.equal(slice(n, idx.root.bodyStart, idx.root.bodyEnd), 'no newline at end');
    assert.equal(idx.root.lines, 1);
    assert.equal(idx.overview.lines, 1);
  });
});
