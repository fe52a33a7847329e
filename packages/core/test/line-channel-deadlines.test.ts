/**
 * The deadlines silence does not measure, over real loopback sockets: a command line must end
 * within commandTimeoutMs of its first octet however steadily its bytes trickle in (each byte
 * resets the idle timer, which is why it alone let a one-byte-every-few-seconds client hold a
 * connection forever), a payload must advance by 1 KiB per commandTimeoutMs, and a connection
 * must authenticate within preAuthTimeoutMs.
 */
import assert from 'node:assert/strict';
import { CommandTimeoutError, IdleTimeoutError, PreAuthTimeoutError } from '../src/errors.js';
import { LineChannel } from '../src/channel/line-channel.js';
import { socketPair, type SocketPair } from './helpers/socket-pair.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Writes one byte every `everyMs` until stopped. */
function trickle(pair: SocketPair, everyMs: number): () => void {
  const timer = setInterval(() => pair.client.write('a'), everyMs);
  return () => clearInterval(timer);
}

/** The promise's outcome, or 'pending' after `ms` (so a test that would hang fails instead). */
async function within<T>(p: Promise<T>, ms: number): Promise<T | Error | 'pending'> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'pending'>((r) => (timer = setTimeout(() => r('pending'), ms)));
  const outcome = p.then(
    (v) => v,
    (e: Error) => e,
  );
  const result = await Promise.race([outcome, late]);
  clearTimeout(timer);
  return result;
}

describe('LineChannel: command-line deadline', () => {
  let pair: SocketPair;
  beforeEach(async () => {
    pair = await socketPair();
  });
  afterEach(() => pair.close());

  it('fails a line trickling in one byte at a time at commandTimeoutMs, though it is never idle', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 200, commandTimeoutMs: 500 });
    const stop = trickle(pair, 50);
    const started = performance.now();
    const outcome = await within(channel.readLine(), 3000);
    stop();
    assert.ok(outcome instanceof CommandTimeoutError, `got ${String(outcome)}`);
    assert.ok(outcome instanceof IdleTimeoutError, 'protocols answer it as they answer an idle timeout');
    assert.ok(performance.now() - started >= 450, 'not before the deadline');
    channel.destroy();
  });

  it('gives each line its own deadline, counted from its first octet', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0, commandTimeoutMs: 400 });
    for (let i = 0; i < 4; i++) {
      const line = channel.readLine();
      pair.client.write('NO');
      await sleep(150);
      pair.client.write('OP\r\n');
      assert.equal(await line, 'NOOP');
    }
    // A pending read with nothing received yet is silence, the idle timer's business.
    const quiet = await within(channel.readLine(), 600);
    assert.equal(quiet, 'pending');
    pair.client.write('QUIT\r\n');
    channel.destroy();
  });

  it('counts the deadline across a line too long to keep', async () => {
    const channel = new LineChannel(pair.server, {
      idleTimeoutMs: 0,
      commandTimeoutMs: 300,
      maxLineLength: 8,
    });
    const read = channel.readLine();
    pair.client.write('x'.repeat(100));
    const stop = trickle(pair, 40);
    const outcome = await within(read, 3000);
    stop();
    assert.ok(outcome instanceof CommandTimeoutError, `got ${String(outcome)}`);
    channel.destroy();
  });
});

describe('LineChannel: payload progress deadline', () => {
  let pair: SocketPair;
  beforeEach(async () => {
    pair = await socketPair();
  });
  afterEach(() => pair.close());

  it('fails a literal trickling in one byte at a time once a window passes with less than 1 KiB', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 200, commandTimeoutMs: 300 });
    const literal = channel.readExactBuffer(5000);
    const stop = trickle(pair, 50);
    const outcome = await within(literal, 3000);
    stop();
    assert.ok(outcome instanceof CommandTimeoutError, `got ${String(outcome)}`);
    channel.destroy();
  });

  it('fails a dot block trickling in the same way', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 200, commandTimeoutMs: 300 });
    const block = channel.readDotBlockInto(1 << 20, () => undefined);
    const stop = trickle(pair, 50);
    const outcome = await within(block, 3000);
    stop();
    assert.ok(outcome instanceof CommandTimeoutError, `got ${String(outcome)}`);
    channel.destroy();
  });

  it('lets a slow payload through that advances by at least 1 KiB per window, however long it takes', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0, commandTimeoutMs: 300 });
    const literal = channel.readExactBuffer(6 * 1500);
    for (let i = 0; i < 6; i++) {
      pair.client.write(Buffer.alloc(1500, 0x61));
      await sleep(150);
    }
    const outcome = await within(literal, 3000);
    assert.ok(Buffer.isBuffer(outcome), `got ${String(outcome)}`);
    assert.equal(outcome.length, 9000);
    channel.destroy();
  });
});

describe('LineChannel: pre-auth deadline', () => {
  let pair: SocketPair;
  beforeEach(async () => {
    pair = await socketPair();
  });
  afterEach(() => pair.close());

  it('fails the pending read at preAuthTimeoutMs from connect however busy the client is, and every read after', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0, preAuthTimeoutMs: 400 });
    const timer = setInterval(() => pair.client.write('NOOP\r\n'), 30);
    let outcome: unknown;
    for (;;) {
      outcome = await within(channel.readLine(), 3000);
      if (outcome !== 'NOOP') break;
    }
    clearInterval(timer);
    assert.ok(outcome instanceof PreAuthTimeoutError, `got ${String(outcome)}`);
    assert.ok(outcome instanceof IdleTimeoutError);
    assert.ok((await within(channel.readLine(), 1000)) instanceof PreAuthTimeoutError);
    channel.destroy();
  });

  it('is lifted by authenticated()', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0, preAuthTimeoutMs: 200 });
    pair.client.write('LOGIN\r\n');
    assert.equal(await channel.readLine(), 'LOGIN');
    channel.authenticated();
    await sleep(400);
    pair.client.write('NOOP\r\n');
    assert.equal(await within(channel.readLine(), 1000), 'NOOP');
    channel.destroy();
  });

  it('drops a connection whose session is busy elsewhere (not reading) once the grace period is over', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0, preAuthTimeoutMs: 150 });
    assert.equal(await within(channel.closed(), 3000), undefined);
    assert.ok(channel.isClosed);
  });
});
