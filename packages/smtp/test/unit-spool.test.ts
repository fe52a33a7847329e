/**
 * MessageSpool: a message kept in memory while small and spilled to a file once large. Either
 * way it reads back byte-identical, with the trace headers in front, and its first 64 KiB are
 * at hand for header checks (submission's Message-ID/Date).
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { MessageSpool } from '../src/spool.js';

async function drain(source: Buffer | Readable): Promise<Buffer> {
  if (Buffer.isBuffer(source)) return source;
  const parts: Buffer[] = [];
  for await (const c of source) parts.push(c as Buffer);
  return Buffer.concat(parts);
}

/** `n` octets of a pattern that shows any reordering or loss. */
function octets(n: number, seed: number): Buffer {
  const b = Buffer.alloc(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

describe('smtp message spool', () => {
  it('keeps a small message in memory and gives it as one Buffer with the prefix in front', async () => {
    const spool = new MessageSpool();
    const parts = [octets(10, 1), octets(0, 2), octets(3000, 3), octets(1, 4)];
    for (const p of parts) await spool.write(p);
    const prefix = Buffer.from('Received: x\r\n');
    const source = spool.source(prefix);
    assert.ok(Buffer.isBuffer(source), 'no stream for a message that stayed in memory');
    assert.deepEqual(source, Buffer.concat([prefix, ...parts]));
    assert.deepEqual(await spool.toBuffer(prefix), source);
    assert.deepEqual(await drain(spool.open(prefix)), source);
    assert.equal(spool.size, 3011);
    assert.deepEqual(spool.start, Buffer.concat(parts));
    await spool.dispose();
  });

  it('gives the first 64 KiB as start, however the message was cut into chunks', async () => {
    const spool = new MessageSpool();
    const whole = octets(200 * 1024, 7);
    for (let at = 0, n = 1; at < whole.length; at += n, n = (n * 7) % 5003 || 1)
      await spool.write(whole.subarray(at, Math.min(whole.length, at + n)));
    assert.deepEqual(spool.start, whole.subarray(0, 64 * 1024));
    assert.deepEqual(spool.source(), whole);
    await spool.dispose();
  });

  it('spills past 1 MiB and then reads back from the file, as a stream', async () => {
    const spool = new MessageSpool();
    const chunks = Array.from({ length: 40 }, (_, i) => octets(64 * 1024, i));
    for (const c of chunks) await spool.write(c);
    const prefix = Buffer.from('Return-Path: <a@b.test>\r\n');
    const source = spool.source(prefix);
    assert.ok(!Buffer.isBuffer(source), 'a spilled message is streamed from its file');
    const want = Buffer.concat([prefix, ...chunks]);
    assert.deepEqual(await drain(source), want);
    assert.deepEqual(await spool.toBuffer(prefix), want);
    assert.deepEqual(spool.start, chunks[0]);
    await spool.dispose();
  });

  it('takes chunks by add() without a promise while in memory, and spills like write()', async () => {
    const spool = new MessageSpool();
    const chunks = Array.from({ length: 40 }, (_, i) => octets(64 * 1024 - i, i));
    let promises = 0;
    for (const c of chunks) {
      const busy = spool.add(c);
      if (busy) {
        promises++;
        await busy;
      }
    }
    // 1 MiB fits in memory; every chunk from the one that does not is written to the file.
    assert.ok(promises > 0 && promises < chunks.length);
    const text = 'Return-Path: <a@b.test>\r\nReceived: from \u00e9\r\n';
    const want = Buffer.concat([Buffer.from(text, 'utf8'), ...chunks]);
    assert.deepEqual(await drain(spool.source(text)), want);
    await spool.dispose();
  });

  it('writes a string prefix in place as its UTF-8 octets, like a Buffer prefix', async () => {
    const spool = new MessageSpool();
    const parts = [octets(5000, 7), octets(1, 8), octets(0, 9), octets(300, 10)];
    for (const p of parts) assert.equal(spool.add(p), undefined);
    for (const text of ['', 'Return-Path: <>\r\n', 'Received: from h\u00e9llo \ud83d\ude00\r\n']) {
      const got = spool.source(text);
      assert.ok(Buffer.isBuffer(got));
      assert.deepEqual(got, spool.source(Buffer.from(text, 'utf8')));
      assert.deepEqual(got, Buffer.concat([Buffer.from(text, 'utf8'), ...parts]));
    }
    await spool.dispose();
  });
});
