import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { indexMessage } from '../src/indexer/index.js';
import type { MimePart } from '../src/types.js';

const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');

const NESTED = crlf([
  'From: "Ann Example" <ann@example.test>',
  'To: bob@example.test, Team: carol@example.test, dave@example.test;',
  'Cc: =?utf-8?q?J=C3=B6rg?= <joerg@example.test>',
  'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= and 8-bit: Grüße',
  'Date: Mon, 23 Nov 2026 08:00:00 +0000',
  'Message-ID: <nested@example.test>',
  'References: <a@x> <b@x>',
  'MIME-Version: 1.0',
  'Content-Type: multipart/mixed; boundary="outer"',
  '',
  'This is the preamble.',
  '--outer',
  'Content-Type: multipart/alternative; boundary=inner',
  '',
  '--inner',
  'Content-Type: text/plain; charset=utf-8',
  'Content-Transfer-Encoding: quoted-printable',
  '',
  'Caf=C3=A9 au lait',
  'second line',
  '--inner',
  'Content-Type: text/html; charset=utf-8',
  '',
  '<p>Café</p>',
  '--inner--',
  '',
  '--outer',
  'Content-Type: message/rfc822',
  'Content-Disposition: attachment; filename="forwarded.eml"',
  '',
  'From: eve@example.test',
  'Subject: the forwarded one',
  'Message-ID: <inner@example.test>',
  'Content-Type: text/plain',
  '',
  'forwarded body',
  '--outer',
  'Content-Type: application/octet-stream; name="x.bin"',
  'Content-Transfer-Encoding: base64',
  'Content-ID: <part4@example.test>',
  '',
  'AAECAwQ=',
  '--outer--',
  'epilogue',
  '',
]);

const slice = (msg: Buffer, from: number, to: number) => msg.subarray(from, to).toString('utf8');

function find(root: MimePart, path: string): MimePart {
  const stack = [root];
  while (stack.length) {
    const p = stack.pop()!;
    if (p.path === path && p !== root) return p;
    stack.push(...p.parts);
  }
  throw new Error(`no part ${path}`);
}

describe('message indexer', function () {
  it('builds the MIME tree of nested multipart/mixed + alternative + message/rfc822 with exact offsets', async () => {
    const idx = await indexMessage(NESTED);
    assert.equal(idx.size, NESTED.length);
    const root = idx.root;
    assert.equal(`${root.type}/${root.subtype}`, 'multipart/mixed');
    assert.equal(root.params.boundary, 'outer');
    assert.deepEqual(
      root.parts.map((p) => `${p.path} ${p.type}/${p.subtype}`),
      ['1 multipart/alternative', '2 message/rfc822', '3 application/octet-stream'],
    );
    const plain = find(root, '1.1');
    assert.equal(plain.encoding, 'QUOTED-PRINTABLE');
    assert.equal(plain.params.charset, 'utf-8');
    assert.equal(slice(NESTED, plain.bodyStart, plain.bodyEnd), 'Caf=C3=A9 au lait\r\nsecond line');
    assert.equal(plain.lines, 2);
    assert.equal(
      slice(NESTED, plain.headerStart, plain.bodyStart),
      'Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n',
    );
    const html = find(root, '1.2');
    assert.equal(slice(NESTED, html.bodyStart, html.bodyEnd), '<p>Café</p>');
    const fwd = root.parts[1]!;
    assert.deepEqual(fwd.disposition, { type: 'attachment', params: { filename: 'forwarded.eml' } });
    assert.ok(fwd.message);
    assert.equal(fwd.message.envelope.subject, 'the forwarded one');
    assert.equal(fwd.message.envelope.messageId, '<inner@example.test>');
    assert.equal(slice(NESTED, fwd.message.root.bodyStart, fwd.message.root.bodyEnd), 'forwarded body');
    assert.equal(
      slice(NESTED, fwd.bodyStart, fwd.bodyEnd),
      'From: eve@example.test\r\nSubject: the forwarded one\r\nMessage-ID: <inner@example.test>\r\nContent-Type: text/plain\r\n\r\nforwarded body',
    );
    assert.equal(fwd.lines, 6);
    const bin = root.parts[2]!;
    assert.equal(bin.id, '<part4@example.test>');
    assert.equal(bin.encoding, 'BASE64');
    assert.equal(slice(NESTED, bin.bodyStart, bin.bodyEnd), 'AAECAwQ=');
  });

  it('fills the IMAP envelope (groups, defaults) and the NNTP overview from raw header text', async () => {
    const idx = await indexMessage(NESTED);
    const e = idx.envelope;
    assert.equal(e.subject, '=?utf-8?q?Gr=C3=BC=C3=9Fe?= and 8-bit: Grüße');
    assert.deepEqual(e.from, [{ name: 'Ann Example', adl: null, mailbox: 'ann', host: 'example.test' }]);
    assert.deepEqual(e.sender, e.from, 'sender defaults to from (RFC 3501 §7.4.2)');
    assert.deepEqual(e.replyTo, e.from);
    assert.deepEqual(
      e.to?.map((a) => [a.mailbox, a.host]),
      [
        ['bob', 'example.test'],
        ['Team', null],
        ['carol', 'example.test'],
        ['dave', 'example.test'],
        [null, null],
      ],
    );
    assert.equal(e.cc?.[0]?.mailbox, 'joerg');
    assert.equal(e.messageId, '<nested@example.test>');
    assert.equal(idx.overview.references, '<a@x> <b@x>');
    assert.equal(idx.overview.bytes, NESTED.length);
    assert.ok(idx.overview.lines > 20);
    assert.ok(idx.headers.some(([n, v]) => n === 'Subject' && v.includes('Grüße')));
  });

  it('decodes text parts for search: quoted-printable and charsets', async () => {
    const idx = await indexMessage(NESTED);
    assert.match(idx.text, /Café au lait/);
    assert.match(idx.text, /forwarded body/);
    const latin = Buffer.concat([
      Buffer.from(
        'Content-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: base64\r\n\r\n',
      ),
      Buffer.from(Buffer.from('Gr\xfc\xdfe', 'latin1').toString('base64') + '\r\n'),
    ]);
    assert.match((await indexMessage(latin)).text, /Grüße/);
  });

  it('gives the same result however the input is chunked', async () => {
    const whole = await indexMessage(NESTED);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: NESTED.length - 1 }), { maxLength: 12 }),
        async (cuts) => {
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of [...points, NESTED.length]) {
            chunks.push(NESTED.subarray(prev, p));
            prev = p;
          }
          const idx = await indexMessage(Readable.from(chunks));
          assert.deepEqual(idx, whole);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('reads runs of body lines the same as line by line: delimiters, dashes, long lines, nesting', async () => {
    // Fed one octet at a time, every line is judged on its own; whole, runs of plain body
    // lines are taken at once. Both must agree on every offset, count and text.
    const line = fc.constantFrom(
      'text',
      '',
      '-',
      '--',
      '- -b',
      '--b',
      '--b--',
      '--bx',
      '--b  ',
      '--c',
      '--c--',
      'Content-Type: text/plain',
      'Content-Type: multipart/mixed; boundary=c',
      'Content-Type: message/rfc822',
      'x\ny',
      'x'.repeat(2100),
      '--' + 'b'.repeat(2100),
    );
    const head = ['Content-Type: multipart/mixed; boundary=b', '', 'preamble', '--b'];
    await fc.assert(
      fc.asyncProperty(fc.array(line, { maxLength: 30 }), fc.boolean(), async (lines, lastLf) => {
        const text = [...head, ...lines].join('\r\n') + (lastLf ? '\r\n' : '');
        const bytes = Buffer.from(text, 'latin1');
        const whole = await indexMessage(bytes);
        const octets = await indexMessage(Readable.from([...bytes].map((o) => Buffer.from([o]))));
        assert.deepEqual(octets, whole);
      }),
      { numRuns: 150 },
    );
  });

  it('indexes broken MIME without failing: no closing boundary, garbage headers, no body, no boundary', async () => {
    const unterminated = crlf([
      'Content-Type: multipart/mixed; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain',
      '',
      'never closed',
      '',
    ]);
    const a = await indexMessage(unterminated);
    assert.equal(a.root.parts.length, 1);
    assert.equal(
      slice(unterminated, a.root.parts[0]!.bodyStart, a.root.parts[0]!.bodyEnd),
      'never closed\r\n',
    );

    const garbage = crlf([
      'this is not a header',
      'Subject: still found',
      ': no name',
      'X-Ok: yes',
      '',
      'body',
    ]);
    const b = await indexMessage(garbage);
    assert.equal(b.envelope.subject, 'still found');
    assert.equal(b.root.type, 'text');

    const headersOnly = Buffer.from('Subject: only headers\r\nFrom: a@b.test\r\n');
    const c = await indexMessage(headersOnly);
    assert.equal(c.envelope.subject, 'only headers');
    assert.equal(c.root.bodyEnd, headersOnly.length);

    const noBoundary = crlf(['Content-Type: multipart/mixed', '', 'opaque', '']);
    const d = await indexMessage(noBoundary);
    assert.equal(d.root.parts.length, 0);

    const empty = await indexMessage(Buffer.alloc(0));
    assert.equal(empty.size, 0);
    assert.equal(empty.envelope.subject, null);

    const badType = crlf(['Content-Type: ???', '', 'x']);
    assert.equal((await indexMessage(badType)).root.subtype, 'plain', 'RFC 2045 §5.2 default');
  });

  it('survives random bytes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 2000 }), async (bytes) => {
        const idx = await indexMessage(Buffer.from(bytes));
        assert.equal(idx.size, bytes.length);
      }),
      { numRuns: 200 },
    );
  });

  it('keeps NUL out of the NNTP overview (RFC 3977 §3.1.1)', async () => {
    const idx = await indexMessage(crlf(['From: a\0b@example.test', 'Subject: x\0y', '', 'body', '']));
    assert.equal(idx.overview.subject, 'x y');
    assert.equal(idx.overview.from, 'a b@example.test');
  });

  it('bounds MIME nesting: ten thousand nested multiparts index without a stack overflow', async () => {
    const lines = ['Subject: deep'];
    const close: string[] = [];
    for (let i = 0; i < 10_000; i++) {
      lines.push(`Content-Type: multipart/mixed; boundary="b${i}"`, '', `--b${i}`);
      close.unshift(`--b${i}--`);
    }
    const idx = await indexMessage(crlf([...lines, 'Content-Type: text/plain', '', 'leaf', ...close, '']));
    let depth = 0;
    for (let p: MimePart | undefined = idx.root; p; p = p.parts[0]) depth++;
    assert.ok(depth > 1 && depth <= 100, `depth ${depth}`);
    // The index is stored as JSON: it must round-trip.
    assert.deepEqual(JSON.parse(JSON.stringify(idx)).size, idx.size);
  });
});
