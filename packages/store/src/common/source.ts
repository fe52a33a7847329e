/** MessageSource in the shapes backends want: whole bytes, or chunks for streaming. */
import { Readable } from 'node:stream';
import type { MessageSource } from '../types.js';

/** Buffers their maker handed over to the store (handOver): kept as they are. */
const handedOver = new WeakSet<Uint8Array>();

/**
 * Hands `bytes` over to the store for the one call they are passed to: the caller made them
 * for it and never changes them afterwards, so the store may keep them instead of a copy (a
 * fresh allocation and copy of every message an SMTP server delivers, otherwise).
 */
export function handOver<T extends Uint8Array>(bytes: T): T {
  handedOver.add(bytes);
  return bytes;
}

/** The bytes of a source given whole (Buffer, Uint8Array, string), as readSource gives them. */
export function sourceBytes(source: MessageSource): Buffer | undefined {
  if (typeof source === 'string') return Buffer.from(source, 'utf8');
  if (!(source instanceof Uint8Array)) return undefined;
  if (handedOver.delete(source))
    return Buffer.isBuffer(source)
      ? source
      : Buffer.from(source.buffer, source.byteOffset, source.byteLength);
  // Copied: the store owns its bytes, whatever the caller does with its buffer later.
  return Buffer.from(source);
}

export async function readSource(source: MessageSource): Promise<Buffer> {
  const whole = sourceBytes(source);
  if (whole) return whole;
  const chunks: Buffer[] = [];
  for await (const c of source as AsyncIterable<Buffer | string>)
    chunks.push(typeof c === 'string' ? Buffer.from(c) : c);
  return Buffer.concat(chunks);
}

const CHUNK = 64 * 1024;

/** A byte stream over `bytes` (or its [start, end) range, clamped), in 64 KiB chunks. */
export function bytesStream(bytes: Buffer, range?: { start: number; end: number }): Readable {
  const start = range ? Math.min(Math.max(0, range.start), bytes.length) : 0;
  const end = range ? Math.min(Math.max(start, range.end), bytes.length) : bytes.length;
  function* chunks() {
    for (let at = start; at < end; at += CHUNK) yield bytes.subarray(at, Math.min(end, at + CHUNK));
  }
  return Readable.from(chunks(), { objectMode: false });
}
