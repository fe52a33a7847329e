import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import fc from 'fast-check';
import { sendMessageBody, TopLimiter } from '../src/message-output.js';

function top(message: string, lines: number, chunkSize: number): string {
  const limiter = new TopLimiter(lines);
  const data = Buffer.from(message);
  const out: Buffer[] = [];
  for (let i = 0; i < data.length; i += chunkSize) {
    const r = limiter.push(data.subarray(i, i + chunkSize));
    out.push(r.out);
    if (r.done) break;
  }
  return Buffer.concat(out).toString();
}

const MESSAGE = 'Subject: hi\r\nFrom: a@b\r\n\r\nline 1\r\nline 2\r\n\r\nline 4\r\n';

describe('pop3 TOP limiter (RFC 1939 §7)', () => {
  it('sends the header and the blank line for n = 0, whatever the chunking', () => {
    for (const size of [1, 2, 3, 7, 1000]) {
      assert.equal(top(MESSAGE, 0, size), 'Subject: hi\r\nFrom: a@b\r\n\r\n', `chunk ${size}`);
    }
  });

  it('counts body lines, empty ones included', () => {
    for (const size of [1, 2, 5, 1000]) {
      assert.equal(top(MESSAGE, 1, size), 'Subject: hi\r\nFrom: a@b\r\n\r\nline 1\r\n');
      assert.equal(top(MESSAGE, 3, size), 'Subject: hi\r\nFrom: a@b\r\n\r\nline 1\r\nline 2\r\n\r\n');
      assert.equal(top(MESSAGE, 99, size), MESSAGE);
    }
  });

  it('handles a message with no header and one with no body', () => {
    assert.equal(top('\r\nbody\r\nmore\r\n', 1, 3), '\r\nbody\r\n');
    assert.equal(top('Subject: x\r\n', 5, 4), 'Subject: x\r\n');
  });

  it('does not take a CR split from its LF as an empty line', () => {
    assert.equal(top('A: b\r\nC: d\r\n\r\nx\r\n', 0, 5), 'A: b\r\nC: d\r\n\r\n');
    assert.equal(top('A: b\r', 0, 5), 'A: b\r');
  });
});

/** Reference: split into LF-terminated lines; the header ends at the first empty line. */
function reference(message: Buffer, n: number): Buffer {
  let pos = 0;
  let inHeader = true;
  let left = n;
  while (pos < message.length) {
    const lf = message.indexOf(0x0a, pos);
    if (lf === -1) return message;
    const line = message.subarray(pos, lf);
    pos = lf + 1;
    if (inHeader) {
      if (line.length === 0 || (line.length === 1 && line[0] === 0x0d)) {
        inHeader = false;
        if (left === 0) return message.subarray(0, pos);
      }
    } else if (--left === 0) {
      return message.subarray(0, pos);
    }
  }
  return message;
}

describe('pop3 TOP limiter properties', () => {
  it('cuts where the whole-message reference does, for any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', '\r', '\n', '\r\n', '.', ': '), { maxLength: 60 }),
        fc.nat(6),
        fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 20 }),
        (parts, n, sizes) => {
          const message = Buffer.from(parts.join(''));
          const limiter = new TopLimiter(n);
          const out: Buffer[] = [];
          for (let i = 0, k = 0; i < message.length; k++) {
            const size = sizes[k % sizes.length];
            const r = limiter.push(message.subarray(i, i + size));
            out.push(r.out);
            i += size;
            if (r.done) break;
          }
          assert.deepEqual(Buffer.concat(out), reference(message, n));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('pop3 message output', () => {
  it('byte-stuffs lines starting with a dot and terminates the block', async () => {
    const written: Buffer[] = [];
    const writer = { write: async (d: string | Buffer) => void written.push(Buffer.from(d)) };
    await sendMessageBody(
      writer,
      Readable.from([Buffer.from('A: b\r\n\r\n.hidden\r\n'), Buffer.from('..two\r\n.')]),
    );
    assert.equal(Buffer.concat(written).toString(), 'A: b\r\n\r\n..hidden\r\n...two\r\n..\r\n.\r\n');
  });
});
