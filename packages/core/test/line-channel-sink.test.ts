/**
 * readDotBlockInto, the stream-free dot block read (SMTP DATA): it must read exactly what
 * readDotBlock reads, whatever the packet boundaries and however slow the sink is, fail the
 * same way, and keep the sink's pieces in order while the sink is busy.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { BlockTooLargeError, ChannelClosedError, IdleTimeoutError } from '../src/errors.js';
import { LineChannel, type BlockSink } from '../src/channel/line-channel.js';
import { dotEncode } from '../src/channel/dot-codec.js';
import { FakeStream, tick, until } from './helpers/fake-stream.js';
import { collect } from './helpers/socket-pair.js';

const MAX_LINE = 16;
const MAX_BLOCK = 40;

type Item = { kind: 'line'; text: string } | { kind: 'dot'; text: string };
/** How the sink takes each piece: at once, after a microtask, or after an event-loop turn. */
type Pace = 'sync' | 'micro' | 'turn';

const chars = (alphabet: string[], maxLength: number) =>
  fc.array(fc.constantFrom(...alphabet), { maxLength }).map((c) => c.join(''));

const item: fc.Arbitrary<Item> = fc.oneof(
  chars(['a', ' ', '.'], MAX_LINE).map((text) => ({ kind: 'line' as const, text })),
  chars(['d', '.', '\r', '\n', ' '], 2 * MAX_BLOCK).map((text) => ({ kind: 'dot' as const, text })),
);

const wire = (items: readonly Item[]) =>
  Buffer.concat(
    items.map((it) =>
      it.kind === 'line'
        ? Buffer.from(it.text + '\r\n', 'latin1')
        : dotEncode(Buffer.from(it.text, 'latin1')),
    ),
  );

function splitAt(input: Buffer, cuts: readonly number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (input.length + 1)))].sort((x, y) => x - y);
  const packets: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    if (p > prev) packets.push(input.subarray(prev, p));
    prev = p;
  }
  if (prev < input.length) packets.push(input.subarray(prev));
  return packets;
}

/** A sink that collects pieces, busy for a while on some of them as `paces` says. */
function pacedSink(paces: readonly Pace[]): { sink: BlockSink; pieces: Buffer[] } {
  const pieces: Buffer[] = [];
  let n = 0;
  let busy = false;
  const sink: BlockSink = (piece) => {
    assert.ok(!busy, 'the sink is never called while busy');
    pieces.push(Buffer.from(piece));
    const pace = paces.length ? paces[n++ % paces.length] : 'sync';
    if (pace === 'sync') return undefined;
    busy = true;
    const done = () => void (busy = false);
    return pace === 'micro'
      ? Promise.resolve().then(done)
      : new Promise<void>((r) => setImmediate(r)).then(done);
  };
  return { sink, pieces };
}

async function outcome(p: Promise<Buffer | string>): Promise<string> {
  try {
    const v = await p;
    return 'ok:' + (typeof v === 'string' ? v : v.toString('latin1'));
  } catch (err) {
    return 'err:' + (err as Error).name;
  }
}

async function run(items: readonly Item[], packets: readonly Buffer[], paces?: readonly Pace[]) {
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
    else if (!paces) results.push(await outcome(collect(channel.readDotBlock(MAX_BLOCK))));
    else {
      const { sink, pieces } = pacedSink(paces);
      const read = channel.readDotBlockInto(MAX_BLOCK, sink).then(() => Buffer.concat(pieces));
      results.push(await outcome(read));
    }
  }
  await feeding;
  assert.equal(channel.bufferedBytes, 0, 'the script consumed exactly the input');
  channel.destroy();
  return results;
}

describe('LineChannel: readDotBlockInto', () => {
  it('reads what readDotBlock reads, however the input is split and the sink paced (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(item, { minLength: 1, maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 10 }),
        fc.array(fc.constantFrom<Pace>('sync', 'micro', 'turn'), { maxLength: 4 }),
        async (items, cuts, paces) => {
          const input = wire(items);
          const byStream = await run(items, [input]);
          assert.deepEqual(await run(items, [input], paces), byStream);
          assert.deepEqual(await run(items, splitAt(input, cuts), paces), byStream);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps pieces in order while the sink is busy, and settles only once it is idle', async () => {
    const stream = new FakeStream();
    const channel = new LineChannel(stream, { idleTimeoutMs: 0 });
    const { sink, pieces } = pacedSink(['turn']);
    let settled = false;
    const read = channel.readDotBlockInto(1 << 20, sink).then(() => (settled = true));
    // One packet, many pieces (every dotted line start splits the payload).
    stream.feed('a\r\n..b\r\n..c\r\n..d\r\n.\r\nNEXT\r\n');
    await tick();
    assert.equal(settled, false);
    await read;
    assert.equal(Buffer.concat(pieces).toString(), 'a\r\n.b\r\n.c\r\n.d\r\n');
    assert.equal(await channel.readLine(), 'NEXT');
    channel.destroy();
  });

  it('fails with BlockTooLargeError after draining a block over the limit', async () => {
    const stream = new FakeStream();
    const channel = new LineChannel(stream, { idleTimeoutMs: 0 });
    const { sink, pieces } = pacedSink(['micro', 'sync']);
    const read = channel.readDotBlockInto(100, sink);
    for (let i = 0; i < 10; i++) {
      stream.feed('z'.repeat(48) + '\r\n');
      await tick();
    }
    stream.feed('.\r\nQUIT\r\n');
    await assert.rejects(read, BlockTooLargeError);
    assert.ok(Buffer.concat(pieces).length <= 100);
    assert.equal(await channel.readLine(), 'QUIT');
    channel.destroy();
  });

  it('passes on a failing sink at once, then drops the rest of the block', async () => {
    const stream = new FakeStream();
    const channel = new LineChannel(stream, { idleTimeoutMs: 0 });
    const boom = new Error('disk full');
    let calls = 0;
    const read = channel.readDotBlockInto(1 << 20, () => {
      calls++;
      return Promise.reject(boom);
    });
    stream.feed('first\r\n');
    await assert.rejects(read, (err) => err === boom);
    stream.feed('..more\r\nand more\r\n.\r\nNEXT\r\n');
    await until(() => channel.bufferedBytes === 6);
    assert.equal(calls, 1);
    assert.equal(await channel.readLine(), 'NEXT');
    channel.destroy();
  });

  it('passes on a sink that throws like one that rejects', async () => {
    const stream = new FakeStream();
    const channel = new LineChannel(stream, { idleTimeoutMs: 0 });
    const read = channel.readDotBlockInto(1 << 20, () => {
      throw new RangeError('nope');
    });
    stream.feed('x\r\n.\r\nNEXT\r\n');
    await assert.rejects(read, RangeError);
    assert.equal(await channel.readLine(), 'NEXT');
    channel.destroy();
  });

  it('fails on idle timeout and on close, even with the sink busy', async () => {
    const a = new FakeStream();
    const timed = new LineChannel(a, { idleTimeoutMs: 30 });
    const read = timed.readDotBlockInto(1 << 20, pacedSink(['turn']).sink);
    a.feed('partial line');
    await assert.rejects(read, IdleTimeoutError);
    timed.destroy();

    const b = new FakeStream();
    const closing = new LineChannel(b, { idleTimeoutMs: 0 });
    const read2 = closing.readDotBlockInto(1 << 20, pacedSink(['turn']).sink);
    b.feed('some data\r\n');
    closing.destroy();
    await assert.rejects(read2, ChannelClosedError);
  });
});
