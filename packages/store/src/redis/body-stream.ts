/**
 * Stored bytes read back as a stream: GETRANGE in 256 KiB steps, fetched only as the reader
 * pulls, so a 100 MB message never sits whole in this process (the backpressure of the
 * socket it is written to paces the reads).
 */
import { Readable } from 'node:stream';
import type { Redis } from 'ioredis';
import { StoreError } from '../types.js';
import { toStoreError } from './connection.js';

const STEP = 256 * 1024;

export function bodyStream(
  redis: Redis,
  key: string,
  size: number,
  range?: { start: number; end: number },
): Readable {
  const start = range ? Math.min(Math.max(0, range.start), size) : 0;
  const end = range ? Math.min(Math.max(start, range.end), size) : size;
  let at = start;
  return new Readable({
    async read() {
      try {
        if (at >= end) {
          this.push(null);
          return;
        }
        const stop = Math.min(end, at + STEP);
        // GETRANGE's end is inclusive (Redis docs, GETRANGE).
        const chunk = await redis.getrangeBuffer(key, at, stop - 1);
        // Bodies are immutable while referenced: a short read means it was expunged meanwhile.
        if (chunk.length !== stop - at) throw new StoreError('NOT_FOUND', 'message removed while being read');
        at = stop;
        this.push(chunk);
      } catch (err) {
        this.destroy(toStoreError(err));
      }
    },
  });
}
