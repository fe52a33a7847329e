/**
 * Command assembly (RFC 3501 §4.3, RFC 7888): literals split across packets at every place,
 * and fuzzing: the parsers refuse garbage with ImapError (BAD/NO), never anything else.
 */
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import fc from 'fast-check';
import { LineChannel } from '@postern/core';
import { ImapError, Reader, readCommandRest } from '../src/index.js';
import { parseFetchRequest } from '../src/fetch-items.js';
import { parseSearch } from '../src/search.js';

function pipe(): { channel: LineChannel; feed(chunk: Buffer): void; written: () => string } {
  const out: Buffer[] = [];
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _enc, cb) {
      out.push(chunk);
      cb();
    },
  });
  return {
    channel: new LineChannel(duplex, { idleTimeoutMs: 0 }),
    feed: (c) => duplex.push(c),
    written: () => Buffer.concat(out).toString(),
  };
}

const LIMITS = { maxLineLength: 1000, maxLiteralSize: 1000, maxLiterals: 10 };

async function assemble(
  wire: Buffer,
  cuts: number[],
): Promise<{ text: string; literals: string[]; said: string }> {
  const p = pipe();
  const points = [...new Set(cuts.map((c) => c % wire.length))].sort((a, b) => a - b);
  let at = 0;
  for (const c of [...points, wire.length]) {
    if (c > at) p.feed(wire.subarray(at, c));
    at = c;
  }
  const first = await p.channel.readLine();
  const cmd = await readCommandRest(p.channel, first, LIMITS);
  return { text: cmd.text, literals: cmd.literals.map((l) => l.toString()), said: p.written() };
}

describe('imap command assembly', () => {
  const wire = Buffer.from('a1 LOGIN {5}\r\nalice {12+}\r\npass\r\n{}word\r\n');

  it('assembles literals however the packets are cut', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(fc.nat(), { maxLength: 8 }), async (cuts) => {
        const got = await assemble(wire, cuts);
        assert.equal(got.text, 'a1 LOGIN \0 \0');
        assert.deepEqual(got.literals, ['alice', 'pass\r\n{}word']);
        // One continuation, for the synchronizing literal only (RFC 7888 §3).
        assert.equal(got.said, '+ Ready for literal data\r\n');
      }),
      { numRuns: 60 },
    );
  });

  it('refuses a synchronizing literal over the limit with NO [TOOBIG], before the data', async () => {
    const p = pipe();
    p.feed(Buffer.from('t APPEND INBOX {1001}\r\n'));
    const first = await p.channel.readLine();
    await assert.rejects(readCommandRest(p.channel, first, LIMITS), (e: unknown) => {
      const err = (e as { error?: ImapError }).error;
      return err instanceof ImapError && err.reply('t') === 't NO [TOOBIG] literal too large\r\n';
    });
    assert.equal(p.written(), '');
  });

  it('rejects a missing tag', async () => {
    const p = pipe();
    p.feed(Buffer.from('+x NOOP\r\n'));
    await assert.rejects(readCommandRest(p.channel, await p.channel.readLine(), LIMITS));
  });

  it('parsers throw only ImapError on arbitrary input', () => {
    const alphabet = fc.constantFrom(...'()[]<>{}" \\*%:,.0123456789ABCDEFGHILMNOPRSTUVXY+-\0'.split(''));
    fc.assert(
      fc.property(
        fc.array(alphabet, { maxLength: 40 }).map((a) => a.join('')),
        (text) => {
          for (const parse of [(r: Reader) => parseSearch(r), (r: Reader) => parseFetchRequest(r)]) {
            try {
              parse(new Reader(text, [Buffer.from('lit')]));
            } catch (err) {
              if (!(err instanceof ImapError)) throw err;
            }
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
