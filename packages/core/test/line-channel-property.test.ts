/**
 * Property: packet boundaries never change what LineChannel reads. A script of command lines
 * (some over the limit), literals and dot blocks (some over their limit) is sent once as one
 * packet and once cut at arbitrary points; both runs must read the same results.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineChannel } from '../src/channel/line-channel.js';
import { dotEncode } from '../src/channel/dot-codec.js';
import { FakeStream, tick } from './helpers/fake-stream.js';
import { collect } from './helpers/socket-pair.js';

const MAX_LINE = 16;
const MAX_BLOCK = 40;

type Item = { kind: 'line'; text: string } | { kind: 'exact'; data: string } | { kind: 'dot'; text: string };

const chars = (alphabet: string[], maxLength: number) =>
  fc.array(fc.constantFrom(...alphabet), { maxLength }).map((c) => c.join(''));

const item: fc.Arbitrary<Item> = fc.oneof(
  chars(['a', 'B', ' ', '.', '\r'], 2 * MAX_LINE + 4).map((text) => ({ kind: 'line' as const, text })),
  chars(['x', '\r', '\n', '.'], 30).map((data) => ({ kind: 'exact' as const, data })),
  chars(['d', '.', '\r', '\n', ' '], 2 * MAX_BLOCK).map((text) => ({ kind: 'dot' as const, text })),
);

function wire(items: readonly Item[]): Buffer {
  return Buffer.concat(
    items.map((it) => {
      if (it.kind === 'line') return Buffer.from(it.text + '\r\n', 'latin1');
      if (it.kind === 'exact') return Buffer.from(it.data, 'latin1');
      return dotEncode(Buffer.from(it.text, 'latin1'));
    }),
  );
}

async function outcome(p: Promise<Buffer | string>): Promise<string> {
  try {
    const v = await p;
    return 'ok:' + (typeof v === 'string' ? v : v.toString('latin1'));
  } catch (err) {
    return 'err:' + (err as Error).name;
  }
}

/** Feed `packets` one per event-loop turn while reading the script; returns what was read. */
async function run(items: readonly Item[], packets: readonly Buffer[]): Promise<string[]> {
  const stream = new FakeStream();
  const channel = new LineChannel(stream, { maxLineLength: MAX_LINE, idleTimeoutMs: 0 });
  const feeding = (async () => {
    for (const p of packets) {
      stream.feed(p);
      await tick();
    }
  })();
  const results: string[] = [];
  for (const it of items) {
    if (it.kind === 'line') results.push(await outcome(channel.readLine()));
    else if (it.kind === 'exact') results.push(await outcome(channel.readExactBuffer(it.data.length)));
    else results.push(await outcome(collect(channel.readDotBlock(MAX_BLOCK))));
  }
  await feeding;
  assert.equal(channel.bufferedBytes, 0, 'the script consumed exactly the input');
  channel.destroy();
  return results;
}

describe('LineChannel: packet boundaries (property)', () => {
  it('reads the same lines, literals and blocks however the input is split', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(item, { minLength: 1, maxLength: 8 }),
        fc.array(fc.nat(), { maxLength: 12 }),
        async (items, cuts) => {
          const input = wire(items);
          const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((x, y) => x - y);
          const packets: Buffer[] = [];
          let prev = 0;
          for (const p of points) {
            if (p > prev) packets.push(input.subarray(prev, p));
            prev = p;
          }
          if (prev < input.length) packets.push(input.subarray(prev));
          const whole = await run(items, [input]);
          const split = await run(items, packets);
          assert.deepEqual(split, whole);
          // And the whole-packet run reads what the script meant.
          items.forEach((it, i) => {
            if (it.kind === 'line') {
              assert.equal(whole[i], it.text.length > MAX_LINE ? 'err:LineTooLongError' : 'ok:' + it.text);
            } else if (it.kind === 'exact') {
              assert.equal(whole[i], 'ok:' + it.data);
            }
          });
        },
      ),
      { numRuns: 200 },
    );
  });

  it('reads byte-at-a-time input like one packet', async () => {
    const items: Item[] = [
      { kind: 'line', text: 'EHLO x' },
      { kind: 'line', text: 'y'.repeat(MAX_LINE + 5) + '\r' },
      { kind: 'dot', text: '.a\r\n\n.\n\r\n.' },
      { kind: 'exact', data: '\r\n.\r\n' },
      { kind: 'line', text: 'QUIT' },
    ];
    const input = wire(items);
    const bytes = [...input].map((x) => Buffer.from([x]));
    assert.deepEqual(await run(items, bytes), await run(items, [input]));
    assert.deepEqual(await run(items, [input]), [
      'ok:EHLO x',
      'err:LineTooLongError',
      'ok:.a\r\n\n..\n\r\n.\r\n',
      'ok:\r\n.\r\n',
      'ok:QUIT',
    ]);
  });
});
