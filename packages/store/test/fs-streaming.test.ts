/**
 * Streaming through the fs store: a 100 MB message goes in from a stream and comes back out
 * as one, and the process never holds it: resident memory grows by less than 64 MB.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { openFsStore } from '../src/fs/index.js';
import type { Store } from '../src/types.js';

const TOTAL = 100 * 1024 * 1024;
const LIMIT = 64 * 1024 * 1024;
const USER = 'big@example.com';

/** A 100 MB message produced chunk by chunk, hashing what it produced. */
function bigMessage(
  hash: ReturnType<typeof createHash>,
  sample: () => void,
  last: { tail: string },
): Readable {
  const header = Buffer.from('From: a@example.com\r\nTo: big@example.com\r\nSubject: big\r\n\r\n');
  const line = Buffer.from('x'.repeat(998) + '\r\n');
  const chunk = Buffer.concat(Array.from({ length: 64 }, () => line));
  let sent = 0;
  return new Readable({
    read() {
      sample();
      if (sent === 0) {
        hash.update(header);
        sent += header.length;
        this.push(header);
        return;
      }
      if (sent >= TOTAL) return void this.push(null);
      const part = chunk.subarray(0, Math.min(chunk.length, TOTAL - sent));
      hash.update(part);
      sent += part.length;
      if (sent >= TOTAL) last.tail = part.subarray(part.length - 10).toString('latin1');
      this.push(Buffer.from(part));
    },
  });
}

describe('fs store: streaming a 100 MB message', function () {
  this.timeout(180_000);
  let dir: string;
  let store: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-stream-'));
    store = await openFsStore(dir, { domains: ['example.com'] });
    await store.accounts.addUser(USER, 'pw');
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('delivers and reads back 100 MB with RSS growth under 64 MB', async () => {
    const base = process.memoryUsage().rss;
    let peak = base;
    const sample = (): void => {
      peak = Math.max(peak, process.memoryUsage().rss);
    };
    const inHash = createHash('sha256');
    const last = { tail: '' };
    const [r] = await store.mail.deliver([{ user: USER }], bigMessage(inHash, sample, last));
    const meta = (await store.mail.list(USER, 'INBOX', { start: r.uid, end: r.uid }))[0];
    assert.equal(meta.size, TOTAL);

    const outHash = createHash('sha256');
    let bytes = 0;
    for await (const c of await store.mail.openMessage(USER, 'INBOX', r.uid)) {
      outHash.update(c as Buffer);
      bytes += (c as Buffer).length;
      sample();
    }
    sample();
    assert.equal(bytes, TOTAL);
    assert.equal(outHash.digest('hex'), inHash.digest('hex'));
    const growth = peak - base;
    assert.ok(growth < LIMIT, `RSS grew by ${(growth / 2 ** 20).toFixed(1)} MB`);

    // A range read of the tail touches only that range.
    let tail = '';
    for await (const c of await store.mail.openMessage(USER, 'INBOX', r.uid, {
      start: TOTAL - 10,
      end: TOTAL,
    }))
      tail += String(c);
    assert.equal(tail, last.tail);
    assert.equal(tail.length, 10);
  });
});
