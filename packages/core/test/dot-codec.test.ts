/**
 * Dot-stuffing (RFC 5321 §4.5.2, RFC 1939 §3, RFC 3977 §3.1.1): the decoder ends a block only
 * at CRLF "." CRLF and removes one leading dot per line; the encoder doubles leading dots and
 * terminates with a real CRLF "." CRLF.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DotDecoder, DotEncoder, dotEncode } from '../src/channel/dot-codec.js';

/** Feed `parts` to a fresh decoder; returns the payload, whether it ended, and the leftover. */
function decode(parts: readonly Buffer[]): { data: string; done: boolean; rest: string } {
  const dec = new DotDecoder();
  const out: Buffer[] = [];
  let rest = '';
  let done = false;
  for (const part of parts) {
    if (done) {
      rest += part.toString('latin1');
      continue;
    }
    const res = dec.push(part);
    out.push(...res.data);
    if (res.done) {
      done = true;
      rest += part.subarray(res.consumed).toString('latin1');
    } else {
      assert.equal(res.consumed, part.length, 'an unfinished block consumes all its input');
    }
  }
  return { data: Buffer.concat(out).toString('latin1'), done, rest };
}

const b = (s: string) => Buffer.from(s, 'latin1');

/** Split `buf` at the given cut points (sorted, deduplicated, in range). */
function splitAt(buf: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((x, y) => x - y);
  const parts: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    parts.push(buf.subarray(prev, p));
    prev = p;
  }
  parts.push(buf.subarray(prev));
  return parts;
}

describe('DotDecoder', () => {
  it('removes the first of the leading dots on each line', () => {
    const r = decode([b('..one\r\n...two\r\n.x\r\nthree.\r\n.\r\n')]);
    assert.deepEqual(r, { data: '.one\r\n..two\r\nx\r\nthree.\r\n', done: true, rest: '' });
  });

  it('ends at CRLF.CRLF and leaves what follows unconsumed', () => {
    const r = decode([b('body\r\n.\r\nQUIT\r\n')]);
    assert.deepEqual(r, { data: 'body\r\n', done: true, rest: 'QUIT\r\n' });
  });

  it('reads an empty block', () => {
    assert.deepEqual(decode([b('.\r\nNEXT')]), { data: '', done: true, rest: 'NEXT' });
  });

  it('never ends at a bare LF or bare CR terminator (SMTP smuggling)', () => {
    for (const fake of ['a\n.\nb', 'a\r.\rb', 'a\r\n.\nb', 'a\n.\r\nb', 'a\r.\r\nb']) {
      const r = decode([b(fake)]);
      assert.equal(r.done, false, JSON.stringify(fake));
    }
    const r = decode([b('a\n.\r\nb\r\n.\r\n')]);
    assert.deepEqual(r, { data: 'a\n.\r\nb\r\n', done: true, rest: '' });
  });

  it('keeps a lone dot followed by other text as data', () => {
    assert.deepEqual(decode([b('.\rX\r\n.\r\n')]), { data: '\rX\r\n', done: true, rest: '' });
  });

  it('finds the terminator split over every possible pair of packets', () => {
    const input = b('x\r\n..y\r\n.\r\nTAIL');
    for (let i = 0; i <= input.length; i++) {
      for (let j = i; j <= input.length; j++) {
        const r = decode([input.subarray(0, i), input.subarray(i, j), input.subarray(j)]);
        assert.deepEqual(r, { data: 'x\r\n.y\r\n', done: true, rest: 'TAIL' }, `cuts ${i},${j}`);
      }
    }
  });

  it('gives a run of lines without leading dots as one view into the input', () => {
    const input = b('one\r\ntwo\r\n\r\nthree\r\n..four\r\nfive\r\n.\r\n');
    const res = new DotDecoder().push(input);
    assert.equal(res.done, true);
    assert.deepEqual(
      res.data.map((d) => d.toString('latin1')),
      ['one\r\ntwo\r\n\r\nthree\r\n', '.four\r\nfive\r\n'],
    );
    // Views, not copies.
    assert.equal(res.data[0]!.buffer, input.buffer);
  });

  it('keeps a CRLF split over two packets a line end, and a lone CR data', () => {
    assert.deepEqual(decode([b('a\r'), b('\n.\r\n')]), { data: 'a\r\n', done: true, rest: '' });
    assert.deepEqual(decode([b('a\r'), b('.\r\n'), b('\r\n.\r\n')]), {
      data: 'a\r.\r\n\r\n',
      done: true,
      rest: '',
    });
    assert.deepEqual(decode([b('a\r\n'), b('..b\r\n'), b('.\r\n')]), {
      data: 'a\r\n.b\r\n',
      done: true,
      rest: '',
    });
  });

  it('consumes nothing once done', () => {
    const dec = new DotDecoder();
    assert.equal(dec.push(b('.\r\n')).done, true);
    assert.equal(dec.done, true);
    assert.deepEqual(dec.push(b('more')), { data: [], consumed: 0, done: true });
  });
});

describe('DotEncoder', () => {
  it('doubles a leading dot on the first and later lines', () => {
    assert.equal(
      dotEncode(b('.a\r\nb\r\n.\r\n..c\r\n')).toString('latin1'),
      '..a\r\nb\r\n..\r\n...c\r\n.\r\n',
    );
  });

  it('stuffs a dot that starts a chunk after a chunk ended a line', () => {
    const enc = new DotEncoder();
    const out = Buffer.concat([enc.encode(b('a\r\n')), enc.encode(b('.b\r\n')), enc.end()]);
    assert.equal(out.toString('latin1'), 'a\r\n..b\r\n.\r\n');
  });

  it('terminates an empty payload with a bare dot line', () => {
    assert.equal(dotEncode(b('')).toString('latin1'), '.\r\n');
  });

  it('adds CRLF before the terminator unless the payload ends with CRLF', () => {
    assert.equal(dotEncode(b('a\r\n')).toString('latin1'), 'a\r\n.\r\n');
    assert.equal(dotEncode(b('a')).toString('latin1'), 'a\r\n.\r\n');
    assert.equal(dotEncode(b('a\r')).toString('latin1'), 'a\r\r\n.\r\n');
    assert.equal(dotEncode(b('a\n')).toString('latin1'), 'a\n\r\n.\r\n');
  });

  it('sees a CRLF split over two chunks as the end of the payload', () => {
    const enc = new DotEncoder();
    const out = Buffer.concat([enc.encode(b('a\r')), enc.encode(b('\n')), enc.end()]);
    assert.equal(out.toString('latin1'), 'a\r\n.\r\n');
  });

  it('doubles a dot after a bare LF too', () => {
    assert.equal(dotEncode(b('a\n.b\r\n')).toString('latin1'), 'a\n..b\r\n.\r\n');
  });
});

describe('dot codec properties', () => {
  const octets = fc
    .array(fc.constantFrom('.', '\r', '\n', 'a', ' '), { maxLength: 80 })
    .map((chars) => chars.join(''));

  it('decode(encode(x)) ends exactly at the terminator, however the bytes are split', () => {
    fc.assert(
      fc.property(octets, fc.array(fc.nat(), { maxLength: 6 }), (text, cuts) => {
        const encoded = Buffer.concat([dotEncode(b(text)), b('NEXT')]);
        const r = decode(splitAt(encoded, cuts));
        assert.equal(r.done, true);
        assert.equal(r.rest, 'NEXT');
        // The decoder treats only CRLF as a line end, so a dot stuffed after a bare LF stays.
        let expected = text.replace(/(?<!\r)\n\./g, '\n..');
        if (expected.length > 0 && !expected.endsWith('\r\n')) expected += '\r\n';
        assert.equal(r.data, expected);
      }),
      { numRuns: 500 },
    );
  });

  it('agrees with a line-by-line reference decoder on any input, however it is split', () => {
    /** RFC 5321 §4.5.2 read literally: lines end at CRLF only; "." alone ends; one dot is dropped. */
    function reference(input: string): { data: string; done: boolean; rest: string } {
      let data = '';
      let at = 0;
      for (;;) {
        const eol = input.indexOf('\r\n', at);
        if (eol === -1) return { data, done: false, rest: '' };
        const line = input.slice(at, eol);
        if (line === '.') return { data, done: true, rest: input.slice(eol + 2) };
        data += (line.startsWith('.') ? line.slice(1) : line) + '\r\n';
        at = eol + 2;
      }
    }
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('.', '\r', '\n', 'a', '\r\n', '\r\n.', '\r\n.\r\n'), { maxLength: 40 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (pieces, cuts) => {
          const text = pieces.join('');
          const want = reference(text);
          const got = decode(splitAt(b(text), cuts));
          assert.equal(got.done, want.done);
          if (want.done) assert.deepEqual(got, want);
          // An unfinished block has given out every line it completed.
          else assert.ok(got.data.startsWith(want.data), JSON.stringify({ text, got, want }));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('round-trips CRLF text exactly, however the bytes are split', () => {
    const lines = fc.array(
      fc.array(fc.constantFrom('.', 'a', ' ', '\r'), { maxLength: 12 }).map((c) => c.join('')),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(lines, fc.array(fc.nat(), { maxLength: 6 }), (ls, cuts) => {
        const text = ls.map((l) => l + '\r\n').join('');
        const r = decode(splitAt(dotEncode(b(text)), cuts));
        assert.deepEqual(r, { data: text, done: true, rest: '' });
      }),
      { numRuns: 500 },
    );
  });
});
