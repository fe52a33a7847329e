/** MessageSource in the shapes backends want: whole bytes, or chunks for streaming. */
import { Readable } from 'node:stream';
import type { MessageSource } from '../types.js';

export async function readSource(source: MessageSource): Promise<Buffer> {
  if (typeof source === 'string') return Buffer.from(source, 'utf8');
  // Copied: the store owns its bytes, whatever the caller does with its buffer later.
  if (source instanceof Uint8Array) return Buffer.from(source);
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
