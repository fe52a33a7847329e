/**
 * The indexer's fast paths against the readings they stand in for: the plain address forms
 * against nodemailer's address parser, plain Content-Type parameters against libmime, the
 * quoted-printable decoder against the two regular expressions it replaces, the header block
 * split against the line-by-line reading, and the scanner's views into its input.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import libmime from 'libmime';
import addressparser from 'nodemailer/lib/addressparser';
import { parseAddressList, parseSimpleAddressList, type ParsedAddress } from '../src/indexer/addresses.js';
import { buildEnvelope } from '../src/indexer/envelope.js';
import { parseHeaderBlock, parseSimpleParams, type HeaderList } from '../src/indexer/headers.js';
import { indexMessage } from '../src/indexer/index.js';
import { decodeQuotedPrintable, decodeText } from '../src/indexer/text.js';

const fullParser = addressparser as unknown as (v: string) => ParsedAddress[];

// ---- address lists ----------------------------------------------------------------------------

const ws = fc.constantFrom('', '', ' ', '  ', '\t', ' \t ');
const atom = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+\-/=?^_`{|}~.]{1,6}$/);
const local = fc.oneof(atom, fc.constantFrom('a', 'ann.b', '.x', 'x.', 'a..b', "o'n", 'a+b', '=', '?'));
const domain = fc.oneof(atom, fc.constantFrom('example.test', 'b', 'x.y.', '.x', 'a-b.c', '1.2.3.4'));
const addrSpec = fc.tuple(local, domain).map(([l, d]) => `${l}@${d}`);
const word = fc.oneof(atom, fc.constantFrom('Bob', 'Ann', 'J.', "O'Neil", 'a@b', '=?x', '-', '.'));
const phrase = fc
  .array(fc.tuple(word, fc.constantFrom(' ', '  ', '\t')), { minLength: 1, maxLength: 3 })
  .map((words) => words.map(([w, s], i) => (i ? s : '') + w).join(''));
const quoted = fc.stringMatching(/^[ -~]{0,10}$/).map((s) => `"${s}"`);
const entry = fc.oneof(
  addrSpec,
  fc.tuple(phrase, ws, addrSpec).map(([p, w, a]) => `${p}${w}<${a}>`),
  fc.tuple(quoted, ws, addrSpec).map(([q, w, a]) => `${q}${w}<${a}>`),
  addrSpec.map((a) => `<${a}>`),
  addrSpec.map((a) => `${a} <${a}>`),
  addrSpec.map((a) => `"${a}" <${a}>`),
);
const list = fc
  .array(fc.tuple(ws, entry, ws, fc.constantFrom(',', ',', ', ', ',,', ';', '')), {
    minLength: 1,
    maxLength: 4,
  })
  .map((entries) => entries.map(([a, e, b, sep]) => a + e + b + sep).join(''));
const noise = fc
  .array(fc.constantFrom(...'aB1.@ \t,<>"()[]:;\\=?é\u00a0\r\n-\'+'), { maxLength: 25 })
  .map((c) => c.join(''));
/** A plain list with a stray character or two put in somewhere. */
const nearMiss = fc
  .tuple(list, fc.nat(), noise)
  .map(([l, at, c]) => l.slice(0, at % (l.length + 1)) + c.slice(0, 2) + l.slice(at % (l.length + 1)));

describe('message indexer: fast paths', () => {
  it('plain address lists read exactly as nodemailer reads them', () => {
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(list, list, noise, nearMiss), (value) => {
        const fast = parseSimpleAddressList(value);
        if (fast === undefined) return;
        accepted++;
        assert.deepStrictEqual(fast, fullParser(value), JSON.stringify(value));
      }),
      { numRuns: 20000 },
    );
    // Not vacuous: a good share of the generated lists take the fast path.
    assert.ok(accepted > 2000, `only ${accepted} lists took the fast path`);
  });

  it('the common forms take the fast path', () => {
    for (const value of [
      'a@b.test',
      'Bob Builder <bob@example.net>, carol@example.org',
      '"Ann Example" <ann@example.test>',
      '"Doe, John" <john@doe.test>, <x@y.z>',
      "O'Neil <o@n.ie>,\tDave <dave@example.com>",
      '"bob@x.test" <bob@x.test>',
    ]) {
      const fast = parseSimpleAddressList(value);
      assert.ok(fast, value);
      assert.deepStrictEqual(fast, fullParser(value), value);
    }
  });

  it('tricky forms fall back to the full parser, with the same envelope as before', () => {
    const tricky: Array<[string, unknown]> = [
      // groups
      [
        'Team: carol@example.test, dave@example.test;',
        [
          { name: null, adl: null, mailbox: 'Team', host: null },
          { name: null, adl: null, mailbox: 'carol', host: 'example.test' },
          { name: null, adl: null, mailbox: 'dave', host: 'example.test' },
          { name: null, adl: null, mailbox: null, host: null },
        ],
      ],
      [
        'undisclosed-recipients:;',
        [
          { name: null, adl: null, mailbox: 'undisclosed-recipients', host: null },
          { name: null, adl: null, mailbox: null, host: null },
        ],
      ],
      // comments
      [
        'ann@example.test (Ann Example)',
        [{ name: 'Ann Example', adl: null, mailbox: 'ann', host: 'example.test' }],
      ],
      ['Ann <ann(x)@example.test>', [{ name: 'Ann', adl: null, mailbox: 'ann', host: 'example.test' }]],
      // encoded words stay raw
      [
        '=?utf-8?q?J=C3=B6rg?= <joerg@example.test>',
        [{ name: '=?utf-8?q?J=C3=B6rg?=', adl: null, mailbox: 'joerg', host: 'example.test' }],
      ],
      // quoted local parts and escapes
      ['"john doe"@example.test', [{ name: null, adl: null, mailbox: '"john doe"', host: 'example.test' }]],
      [
        '"Ann \\"The\\" Example" <ann@example.test>',
        [{ name: 'Ann "The" Example', adl: null, mailbox: 'ann', host: 'example.test' }],
      ],
      // a name only, an empty angle-addr, a domain literal, a route, non-ASCII (RFC 6532)
      ['Bob', [{ name: 'Bob', adl: null, mailbox: null, host: null }]],
      ['a@[192.0.2.1]', [{ name: null, adl: null, mailbox: 'a', host: '[192.0.2.1]' }]],
      // the route is kept as the adl (RFC 3501 §7.4.2, RFC 5322 §4.4 obs-route)
      [
        '<@relay.test:ann@example.test>',
        [{ name: null, adl: '@relay.test', mailbox: 'ann', host: 'example.test' }],
      ],
      ['Jörg <jörg@exämple.test>', [{ name: 'Jörg', adl: null, mailbox: 'jörg', host: 'exämple.test' }]],
      // an unquoted comma in a name, whitespace around the "@", two addresses without a comma
      [
        'Joe Foo, PhD <joe@example.test>',
        [{ name: 'Joe Foo, PhD', adl: null, mailbox: 'joe', host: 'example.test' }],
      ],
      ['user @ example.test', [{ name: null, adl: null, mailbox: 'user', host: 'example.test' }]],
      ['a@b.test c@d.test', [{ name: 'c@d.test', adl: null, mailbox: 'a', host: 'b.test' }]],
      ['""<a@b.test>', [{ name: null, adl: null, mailbox: 'a', host: 'b.test' }]],
    ];
    for (const [value, expected] of tricky) {
      assert.equal(parseSimpleAddressList(value), undefined, `${value} must fall back`);
      assert.deepStrictEqual(parseAddressList(value), fullParser(value), value);
      const env = buildEnvelope([['To', value]]);
      assert.deepStrictEqual(env.to, expected, value);
    }
  });

  // ---- Content-Type parameters ------------------------------------------------------------

  it('plain Content-Type values read as libmime reads them', () => {
    const token = fc.stringMatching(/^[A-Za-z0-9!#$%&'*+.^_`|~/-]{1,8}$/);
    const pieces = fc.constantFrom(
      ';',
      '; ',
      ' ;',
      '=',
      '"',
      ' ',
      '\t',
      '*',
      '\\',
      '(',
      'charset',
      'CHARSET',
      'boundary',
      '__proto__',
      'a b',
      "utf-8''x",
      '*0',
    );
    const value = fc
      .array(fc.oneof(token, pieces, fc.constant('text/plain')), { maxLength: 12 })
      .map((p) => p.join(''));
    const plain = fc
      .tuple(token, fc.array(fc.tuple(ws, token, fc.oneof(token, quoted)), { maxLength: 3 }))
      .map(([t, ps]) => t + ps.map(([w, k, v]) => `;${w}${k}=${v}`).join(''));
    let accepted = 0;
    fc.assert(
      fc.property(fc.oneof(value, plain), (v) => {
        const fast = parseSimpleParams(v);
        if (fast === undefined) return;
        accepted++;
        const p = libmime.parseHeaderValue(v);
        const params: Record<string, string> = {};
        for (const [k, x] of Object.entries(p.params)) params[k.toLowerCase()] = String(x);
        assert.deepStrictEqual(fast, { value: String(p.value), params }, JSON.stringify(v));
      }),
      { numRuns: 10000 },
    );
    assert.ok(accepted > 1000, `only ${accepted} values took the fast path`);
  });

  // ---- quoted-printable -----------------------------------------------------------------------

  it('quoted-printable decodes as the soft-break and escape expressions did', () => {
    const reference = (body: Buffer) => {
      const text = body.toString('latin1').replace(/=\r?\n/g, '');
      return Buffer.from(
        text.replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      );
    };
    const bytes = fc
      .array(
        fc.constantFrom(
          '=',
          '\r',
          '\n',
          'A',
          'f',
          '0',
          '9',
          'g',
          'x',
          ' ',
          '\u00e9',
          '=\r\n',
          '=\n',
          '=3D',
          '=C3=A9',
        ),
        { maxLength: 40 },
      )
      .map((p) => Buffer.from(p.join(''), 'latin1'));
    fc.assert(
      fc.property(bytes, (body) => {
        const out = Buffer.alloc(body.length);
        const n = decodeQuotedPrintable(body, out);
        assert.deepStrictEqual(out.subarray(0, n), reference(body), JSON.stringify(body.toString('latin1')));
        // In place, as it runs on a copy it owns.
        const copy = Buffer.from(body);
        assert.deepStrictEqual(copy.subarray(0, decodeQuotedPrintable(copy, copy)), reference(body));
      }),
      { numRuns: 5000 },
    );
  });

  it('text in ASCII reads the same through every charset that keeps ASCII as it is', () => {
    const charsets = [
      'utf-8',
      'UTF-8',
      'us-ascii',
      'iso-8859-1',
      'iso-8859-2',
      'windows-1252',
      'koi8-r',
      'utf-16le',
      'shift_jis',
      'iso-2022-jp',
      'gb18030',
      'bogus',
      '',
    ];
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 64 }).map((b) => Buffer.from(b.map((x) => x & 0x7f))),
        fc.constantFrom(...charsets),
        (body, charset) => {
          let expected: string;
          try {
            expected = new TextDecoder(charset || 'utf-8').decode(body);
          } catch {
            expected = new TextDecoder('utf-8').decode(body);
          }
          assert.equal(decodeText(body, '7BIT', charset || undefined), expected);
        },
      ),
      { numRuns: 2000 },
    );
  });

  // ---- header blocks --------------------------------------------------------------------------

  it('header blocks split as line by line with split(/\\r?\\n/)', () => {
    const reference = (raw: string): HeaderList => {
      const out: HeaderList = [];
      for (const line of raw.split(/\r?\n/)) {
        if (line === '') continue;
        if ((line[0] === ' ' || line[0] === '\t') && out.length > 0) {
          out[out.length - 1]![1] += line;
          continue;
        }
        const colon = line.indexOf(':');
        if (colon <= 0 || !/^[!-9;-~]+$/.test(line.slice(0, colon).trimEnd())) continue;
        out.push([line.slice(0, colon).trimEnd(), line.slice(colon + 1).trim()]);
      }
      return out;
    };
    const piece = fc.constantFrom(
      'From',
      'x',
      ':',
      ' ',
      '\t',
      '\r',
      '\n',
      '\r\n',
      'a b',
      '\u00a0',
      'é',
      ';',
      'Subject: hi',
      '\u2028',
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 30 }), (p) => {
        const raw = p.join('');
        assert.deepStrictEqual(parseHeaderBlock(raw), reference(raw), JSON.stringify(raw));
      }),
      { numRuns: 5000 },
    );
  });

  // ---- the scanner's views into its input -------------------------------------------------------

  it('a stream whose chunks are overwritten once read indexes the same as the whole message', async () => {
    const crlf = (lines: string[]) => Buffer.from(lines.join('\r\n'), 'utf8');
    const msg = crlf([
      'From: "Ann Example" <ann@example.test>',
      'To: Bob <bob@example.test>, carol@example.test',
      'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=',
      'Content-Type: multipart/alternative; boundary=b',
      '',
      '--b',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: quoted-printable',
      '',
      'Caf=C3=A9 au lait, soft=',
      ' break',
      '--b',
      'Content-Type: text/html; charset=iso-8859-1',
      '',
      '<p>Gr\u00fc\u00dfe</p>',
      '--b--',
      '',
    ]);
    const whole = await indexMessage(msg);
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.integer({ min: 1, max: msg.length - 1 }), { maxLength: 16 }),
        async (cuts) => {
          const points = [...new Set(cuts)].sort((a, b) => a - b);
          const chunks: Buffer[] = [];
          let prev = 0;
          for (const p of [...points, msg.length]) {
            chunks.push(Buffer.from(msg.subarray(prev, p)));
            prev = p;
          }
          // The producer reuses its buffers: each chunk is scribbled over once it is consumed.
          const source = (async function* () {
            for (const chunk of chunks) {
              yield chunk;
              chunk.fill(0x58);
            }
          })();
          assert.deepStrictEqual(await indexMessage(source), whole);
        },
      ),
      { numRuns: 100 },
    );
  });
});
