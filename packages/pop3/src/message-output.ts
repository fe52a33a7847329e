/**
 * RETR and TOP bodies (RFC 1939 §§5, 7): the stored octets, byte-stuffed, then the termination
 * octet. TOP stops after the header, the blank line and the first n body lines; the cut is made
 * by a sans-I/O limiter so a large message is never read further than needed.
 */
import type { Readable } from 'node:stream';
import { DotEncoder } from '@postern/core';

const LF = 0x0a;
const CR = 0x0d;

export interface LimitResult {
  /** The part of the chunk to send. */
  readonly out: Buffer;
  /** Nothing more is wanted. */
  readonly done: boolean;
}

/** RFC 1939 §7 TOP msg n: the header, the blank line separating it from the body, n body lines. */
export class TopLimiter {
  private inHeader = true;
  /** Octets of the current line seen so far and whether the last of them was CR. */
  private lineLength = 0;
  private lastWasCr = false;
  private remaining: number;
  private finished = false;

  constructor(lines: number) {
    this.remaining = lines;
  }

  push(chunk: Buffer): LimitResult {
    if (this.finished) return { out: chunk.subarray(0, 0), done: true };
    let pos = 0;
    while (pos < chunk.length) {
      const lf = chunk.indexOf(LF, pos);
      if (lf === -1) {
        this.lineLength += chunk.length - pos;
        this.lastWasCr = chunk[chunk.length - 1] === CR;
        return { out: chunk, done: false };
      }
      const length = this.lineLength + (lf - pos);
      const endsWithCr = lf > pos ? chunk[lf - 1] === CR : this.lastWasCr;
      const empty = length === 0 || (length === 1 && endsWithCr);
      this.lineLength = 0;
      this.lastWasCr = false;
      pos = lf + 1;
      if (this.inHeader) {
        if (!empty) continue;
        this.inHeader = false;
        if (this.remaining === 0) return this.finish(chunk, pos);
      } else if (--this.remaining === 0) {
        return this.finish(chunk, pos);
      }
    }
    return { out: chunk, done: false };
  }

  private finish(chunk: Buffer, end: number): LimitResult {
    this.finished = true;
    return { out: chunk.subarray(0, end), done: true };
  }
}

/** Anything the session can write to with backpressure (a LineChannel). */
export interface Writer {
  write(data: string | Buffer): Promise<void>;
}

/**
 * Send `source` as the body of a multi-line reply. Throws when the source fails mid-way: by then
 * "+OK" is on the wire and no -ERR can follow, so the caller must drop the connection.
 */
export async function sendMessageBody(out: Writer, source: Readable, limiter?: TopLimiter): Promise<void> {
  const encoder = new DotEncoder();
  try {
    for await (const piece of source) {
      let chunk = Buffer.isBuffer(piece) ? piece : Buffer.from(piece as Uint8Array | string);
      let done = false;
      if (limiter) ({ out: chunk, done } = limiter.push(chunk));
      if (chunk.length > 0) await out.write(encoder.encode(chunk));
      if (done) break;
    }
  } finally {
    source.destroy();
  }
  await out.write(encoder.end());
}
