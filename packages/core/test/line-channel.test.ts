/**
 * LineChannel reading and writing: CRLF lines under a limit, literals, dot blocks, pipelining,
 * backpressure, timeouts and close. Packet boundaries are set exactly with FakeStream; the
 * socket tests check the same over real loopback TCP.
 */
import assert from 'node:assert/strict';
import { BlockTooLargeError, ChannelClosedError, IdleTimeoutError, LineTooLongError } from '../src/errors.js';
import { LineChannel } from '../src/channel/line-channel.js';
import { FakeStream, tick, until } from './helpers/fake-stream.js';
import { collect, readBytes, socketPair, type SocketPair } from './helpers/socket-pair.js';

function channelOver(options: ConstructorParameters<typeof LineChannel>[1] = {}) {
  const stream = new FakeStream();
  const channel = new LineChannel(stream, { idleTimeoutMs: 0, ...options });
  return { stream, channel };
}

describe('LineChannel: lines', () => {
  it('joins a line split across packets', async () => {
    const { stream, channel } = channelOver();
    const line = channel.readLine();
    stream.feed('EHLO cli');
    await tick();
    stream.feed('ent.example');
    await tick();
    stream.feed('.org\r\n');
    assert.equal(await line, 'EHLO client.example.org');
    channel.destroy();
  });

  it('handles CR and LF arriving in different packets', async () => {
    const { stream, channel } = channelOver();
    const first = channel.readLine();
    stream.feed('NOOP\r');
    await tick();
    assert.equal(channel.bufferedBytes, 5, 'the lone CR waits for its LF');
    stream.feed('\nQUIT\r\n');
    assert.equal(await first, 'NOOP');
    assert.equal(await channel.readLine(), 'QUIT');
    channel.destroy();
  });

  it('serves pipelined commands from one packet in order (RFC 2920)', async () => {
    const { stream, channel } = channelOver();
    stream.feed('MAIL FROM:<a@x>\r\nRCPT TO:<b@y>\r\nRCPT TO:<c@z>\r\nDATA\r\n');
    await tick();
    assert.equal(await channel.readLine(), 'MAIL FROM:<a@x>');
    assert.equal(await channel.readLine(), 'RCPT TO:<b@y>');
    assert.equal(await channel.readLine(), 'RCPT TO:<c@z>');
    assert.equal(await channel.readLine(), 'DATA');
    assert.equal(channel.bufferedBytes, 0);
    channel.destroy();
  });

  it('returns an empty line for a bare CRLF and ends a line at a bare LF', async () => {
    const { stream, channel } = channelOver();
    stream.feed('\r\nA\nB\r\n');
    assert.equal(await channel.readLine(), '');
    assert.equal(await channel.readLine(), 'A');
    assert.equal(await channel.readLine(), 'B');
    channel.destroy();
  });

  it('accepts a line of exactly maxLineLength octets', async () => {
    const { stream, channel } = channelOver({ maxLineLength: 16 });
    stream.feed('x'.repeat(16) + '\r\n');
    assert.equal(await channel.readLine(), 'x'.repeat(16));
    channel.destroy();
  });

  it('rejects an oversize line with LineTooLongError and reads the next line', async () => {
    const { stream, channel } = channelOver({ maxLineLength: 16 });
    stream.feed('x'.repeat(17) + '\r\nNOOP\r\n');
    await assert.rejects(channel.readLine(), (err: unknown) => {
      assert.ok(err instanceof LineTooLongError);
      assert.equal(err.code, 'LINE_TOO_LONG');
      assert.equal(err.limit, 16);
      return true;
    });
    assert.equal(await channel.readLine(), 'NOOP');
    channel.destroy();
  });

  it('drops an oversize line arriving over many packets without buffering it, then resynchronises', async () => {
    const { stream, channel } = channelOver({ maxLineLength: 64 });
    const line = channel.readLine();
    let settled = false;
    line.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < 50; i++) {
      stream.feed('y'.repeat(100));
      await tick();
      assert.ok(channel.bufferedBytes <= 65, `buffer stays bounded (${channel.bufferedBytes})`);
    }
    assert.equal(settled, false, 'no verdict before the line ends');
    stream.feed('yyy\r');
    await tick();
    stream.feed('\nRSET\r\n');
    await assert.rejects(line, LineTooLongError);
    assert.equal(await channel.readLine(), 'RSET');
    channel.destroy();
  });

  it('refuses a second read while one is pending', async () => {
    const { stream, channel } = channelOver();
    const first = channel.readLine();
    await assert.rejects(channel.readLine(), /already in progress/);
    stream.feed('ok\r\n');
    assert.equal(await first, 'ok');
    channel.destroy();
  });
});

describe('LineChannel: literals (readExact)', () => {
  it('reads a literal spanning packets, then the rest of the command line', async () => {
    const { stream, channel } = channelOver();
    stream.feed('A1 APPEND INBOX {11}\r\nHello');
    assert.equal(await channel.readLine(), 'A1 APPEND INBOX {11}');
    const literal = channel.readExactBuffer(11);
    await tick();
    stream.feed(' wor');
    await tick();
    stream.feed('ld)\r\nA2 NOOP\r\n');
    assert.equal((await literal).toString(), 'Hello world');
    assert.equal(await channel.readLine(), ')');
    assert.equal(await channel.readLine(), 'A2 NOOP');
    channel.destroy();
  });

  it('refuses a literal longer than max up front', async () => {
    const { channel } = channelOver();
    await assert.rejects(collect(channel.readExact(100, 10)), BlockTooLargeError);
    channel.destroy();
  });

  it('reads a zero-length literal', async () => {
    const { stream, channel } = channelOver();
    stream.feed('NEXT\r\n');
    assert.equal((await channel.readExactBuffer(0)).length, 0);
    assert.equal(await channel.readLine(), 'NEXT');
    channel.destroy();
  });

  it('goes on reading lines after a literal larger than the payload buffer', async () => {
    const { stream, channel } = channelOver();
    const size = 600 * 1024;
    stream.feed(Buffer.concat([Buffer.alloc(size, 0x61), Buffer.from('NEXT\r\n')]));
    await tick();
    const body = await channel.readExactBuffer(size);
    assert.equal(body.length, size);
    assert.equal(await channel.readLine(), 'NEXT');
    channel.destroy();
  });
});

describe('LineChannel: dot blocks', () => {
  it('unstuffs, ends only at CRLF.CRLF, and leaves what follows for the next read', async () => {
    const { stream, channel } = channelOver();
    const block = collect(channel.readDotBlock());
    stream.feed('Subject: t\r\n\r\n..leading dot\r\nbare\n.\nlf\r.\r\n');
    await tick();
    stream.feed('.');
    await tick();
    stream.feed('\r');
    await tick();
    stream.feed('\nQUIT\r\n');
    assert.equal((await block).toString('latin1'), 'Subject: t\r\n\r\n.leading dot\r\nbare\n.\nlf\r.\r\n');
    assert.equal(await channel.readLine(), 'QUIT');
    channel.destroy();
  });

  it('drains a block over the limit, then fails it with BlockTooLargeError; the next line reads fine', async () => {
    const { stream, channel } = channelOver();
    const block = collect(channel.readDotBlock(100));
    for (let i = 0; i < 10; i++) {
      stream.feed('z'.repeat(48) + '\r\n');
      await tick();
    }
    stream.feed('.\r\nQUIT\r\n');
    await assert.rejects(block, (err: unknown) => {
      assert.ok(err instanceof BlockTooLargeError);
      assert.equal(err.limit, 100);
      return true;
    });
    assert.equal(await channel.readLine(), 'QUIT');
    channel.destroy();
  });

  it('drains the rest of a block whose reader gave up', async () => {
    const { stream, channel } = channelOver();
    const packet = ('w'.repeat(1022) + '\r\n').repeat(64);
    const block = channel.readDotBlock();
    for (let i = 0; i < 5; i++) stream.feed(packet); // 320 KiB: the block's stream is full
    await tick();
    assert.ok(block.readableLength > 0);
    block.destroy(); // the reader gives up without reading on
    for (let i = 0; i < 5; i++) stream.feed(packet);
    stream.feed('.\r\nNEXT\r\n');
    await until(() => channel.bufferedBytes === 6);
    assert.equal(await channel.readLine(), 'NEXT');
    channel.destroy();
  });

  it('accepts a block of exactly the limit', async () => {
    const { stream, channel } = channelOver();
    stream.feed('x'.repeat(8) + '\r\n.\r\n');
    assert.equal((await collect(channel.readDotBlock(10))).toString(), 'xxxxxxxx\r\n');
    channel.destroy();
  });
});

describe('LineChannel: writing', () => {
  it('waits for drain when the stream is full (backpressure)', async () => {
    const stream = new FakeStream(16);
    const channel = new LineChannel(stream, { idleTimeoutMs: 0 });
    stream.holdWrites = true;
    let done = false;
    const write = channel.write('x'.repeat(64)).then(() => (done = true));
    for (let i = 0; i < 5; i++) await tick();
    assert.equal(done, false, 'write() must not resolve before the stream drains');
    stream.release();
    await write;
    assert.equal(done, true);
    assert.equal(stream.output, 'x'.repeat(64));
    channel.destroy();
  });

  it('resolves at once while under the high-water mark', async () => {
    const { stream, channel } = channelOver();
    await channel.write('220 ready\r\n');
    assert.equal(stream.output, '220 ready\r\n');
    channel.destroy();
  });

  it('fails a write after close with ChannelClosedError', async () => {
    const { channel } = channelOver();
    channel.destroy();
    await assert.rejects(channel.write('x'), ChannelClosedError);
  });
});

describe('LineChannel: timeouts and close', () => {
  it('rejects a pending read with IdleTimeoutError and stays usable', async () => {
    const { stream, channel } = channelOver({ idleTimeoutMs: 50 });
    await assert.rejects(channel.readLine(), (err: unknown) => {
      assert.ok(err instanceof IdleTimeoutError);
      assert.equal(err.timeoutMs, 50);
      return true;
    });
    channel.setIdleTimeout(0);
    const line = channel.readLine();
    stream.feed('late\r\n');
    assert.equal(await line, 'late');
    channel.destroy();
  });

  it('counts the idle time of each read from when it started, not from an earlier read', async () => {
    const { stream, channel } = channelOver({ idleTimeoutMs: 80 });
    const first = channel.readLine();
    await new Promise((r) => setTimeout(r, 50));
    stream.feed('one\r\n');
    assert.equal(await first, 'one');
    const started = performance.now();
    const second = channel.readLine();
    const outcome = second.then(
      () => 'line',
      (err: unknown) => (err instanceof IdleTimeoutError ? 'timeout' : 'other'),
    );
    // 100 ms after the first read began, 50 ms into the second: not yet idle.
    await new Promise((r) => setTimeout(r, 50));
    const early = await Promise.race([outcome, new Promise((r) => setTimeout(() => r('pending'), 0))]);
    assert.equal(early, 'pending');
    assert.equal(await outcome, 'timeout');
    assert.ok(performance.now() - started >= 75, 'the full timeout, measured from the second read');
    channel.destroy();
  });

  it('applies a shorter idle timeout to the read already waiting', async () => {
    const { channel } = channelOver({ idleTimeoutMs: 60_000 });
    const started = performance.now();
    const line = channel.readLine();
    channel.setIdleTimeout(30);
    await assert.rejects(line, (err: unknown) => err instanceof IdleTimeoutError && err.timeoutMs === 30);
    assert.ok(performance.now() - started < 5000);
    channel.destroy();
  });

  it('times out a dot block that stops arriving', async () => {
    const { stream, channel } = channelOver({ idleTimeoutMs: 50 });
    const block = collect(channel.readDotBlock());
    stream.feed('partial\r\n');
    await assert.rejects(block, IdleTimeoutError);
    channel.destroy();
  });

  it('does not time out while idle with no read pending', async () => {
    const { stream, channel } = channelOver({ idleTimeoutMs: 20 });
    stream.feed('early\r\n');
    await until(() => channel.bufferedBytes === 7);
    await new Promise((r) => setTimeout(r, 60));
    assert.equal(await channel.readLine(), 'early');
    channel.destroy();
  });

  it('fails a read pending at local close with ChannelClosedError', async () => {
    const { channel } = channelOver();
    const line = channel.readLine();
    const closed = channel.closed();
    await channel.close();
    await assert.rejects(line, ChannelClosedError);
    await closed;
    assert.equal(channel.isClosed, true);
    await assert.rejects(channel.readLine(), ChannelClosedError);
  });

  it('serves what arrived before the peer FIN, then fails with ChannelClosedError', async () => {
    const { stream, channel } = channelOver();
    stream.feed('LAST\r\nPART');
    stream.finish();
    await tick();
    assert.equal(await channel.readLine(), 'LAST');
    await assert.rejects(channel.readLine(), ChannelClosedError);
  });
});

describe('LineChannel over TCP', () => {
  let pair: SocketPair;
  beforeEach(async () => {
    pair = await socketPair();
  });
  afterEach(async () => {
    await pair.close();
  });

  it('joins a line and a CRLF split across real packets', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    const line = channel.readLine();
    pair.client.write('HELO a');
    await until(() => channel.bufferedBytes === 6);
    pair.client.write('.example\r');
    await until(() => channel.bufferedBytes === 15);
    pair.client.write('\nQUIT\r\n');
    assert.equal(await line, 'HELO a.example');
    assert.equal(await channel.readLine(), 'QUIT');
    channel.destroy();
  });

  it('answers and reads pipelined commands', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    pair.client.write('A\r\nB\r\nC\r\n');
    const replies = readBytes(pair.client, 9);
    for (const expected of ['A', 'B', 'C']) {
      const cmd = await channel.readLine();
      assert.equal(cmd, expected);
      await channel.write(`ok${cmd}\r\n`);
    }
    assert.equal((await replies).toString(), 'okA\r\nokB\r\nokC\r\n');
    channel.destroy();
  });

  it('fails a pending read with ChannelClosedError when the peer closes', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    const line = channel.readLine();
    pair.client.end();
    await assert.rejects(line, ChannelClosedError);
    await channel.closed();
    assert.equal(channel.isClosed, true);
  });

  it('still serves commands that arrived before the peer closed', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    const serverClosed = new Promise((resolve) => pair.server.once('close', resolve));
    pair.client.end('NOOP\r\nQUIT\r\n');
    await serverClosed;
    assert.equal(await channel.readLine(), 'NOOP');
    assert.equal(await channel.readLine(), 'QUIT');
    await assert.rejects(channel.readLine(), ChannelClosedError);
  });

  it('fails a pending read with ChannelClosedError when the peer resets', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    const line = channel.readLine();
    pair.client.resetAndDestroy();
    await assert.rejects(line, ChannelClosedError);
  });

  it('closes cleanly: the peer sees the last reply and then FIN', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    const received: Buffer[] = [];
    pair.client.on('data', (c: Buffer) => received.push(c));
    const ended = new Promise<void>((resolve) => pair.client.once('end', resolve));
    await channel.write('221 bye\r\n');
    await channel.close();
    await ended;
    assert.equal(Buffer.concat(received).toString(), '221 bye\r\n');
  });
});
