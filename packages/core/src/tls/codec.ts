/**
 * Strict reader/writer for the TLS presentation language (RFC 8446 §3). Every length prefix is
 * checked against its bounds and against the bytes actually present; any mismatch is a
 * decode_error (RFC 8446 §6.2), never an exception of another kind.
 */
import { decodeError } from './failures.js';

export class Reader {
  private pos = 0;
  constructor(private readonly buf: Uint8Array) {}

  get remaining(): number {
    return this.buf.length - this.pos;
  }
  get atEnd(): boolean {
    return this.pos === this.buf.length;
  }
  u8(): number {
    if (this.remaining < 1) throw decodeError('truncated u8');
    return this.buf[this.pos++];
  }
  u16(): number {
    if (this.remaining < 2) throw decodeError('truncated u16');
    const v = (this.buf[this.pos] << 8) | this.buf[this.pos + 1];
    this.pos += 2;
    return v;
  }
  u24(): number {
    if (this.remaining < 3) throw decodeError('truncated u24');
    const v = (this.buf[this.pos] << 16) | (this.buf[this.pos + 1] << 8) | this.buf[this.pos + 2];
    this.pos += 3;
    return v;
  }
  u32(): number {
    if (this.remaining < 4) throw decodeError('truncated u32');
    return ((this.u16() << 16) | this.u16()) >>> 0;
  }
  bytes(n: number): Uint8Array {
    if (this.remaining < n) throw decodeError(`truncated: need ${n} bytes, have ${this.remaining}`);
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }
  rest(): Uint8Array {
    return this.bytes(this.remaining);
  }
  /** A vector with a `prefix`-byte length in [min, max]. */
  vec(prefix: 1 | 2 | 3, min: number, max: number, what: string): Uint8Array {
    const len = prefix === 1 ? this.u8() : prefix === 2 ? this.u16() : this.u24();
    if (len < min || len > max) throw decodeError(`${what}: length ${len} outside [${min}, ${max}]`);
    return this.bytes(len);
  }
  /** Same as `vec`, returned as a sub-reader. */
  sub(prefix: 1 | 2 | 3, min: number, max: number, what: string): Reader {
    return new Reader(this.vec(prefix, min, max, what));
  }
  end(what: string): void {
    if (!this.atEnd) throw decodeError(`${what}: ${this.remaining} trailing bytes`);
  }
}

export class Writer {
  private readonly parts: Uint8Array[] = [];
  private size = 0;

  u8(v: number): this {
    return this.raw(Uint8Array.of(v & 0xff));
  }
  u16(v: number): this {
    return this.raw(Uint8Array.of((v >> 8) & 0xff, v & 0xff));
  }
  u24(v: number): this {
    return this.raw(Uint8Array.of((v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff));
  }
  u32(v: number): this {
    return this.raw(Uint8Array.of((v >>> 24) & 0xff, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff));
  }
  raw(b: Uint8Array): this {
    this.parts.push(b);
    this.size += b.length;
    return this;
  }
  /** Writes `body` behind a `prefix`-byte length. */
  vec(prefix: 1 | 2 | 3, body: Uint8Array | Writer): this {
    const b = body instanceof Writer ? body.finish() : body;
    const max = prefix === 1 ? 0xff : prefix === 2 ? 0xffff : 0xffffff;
    if (b.length > max)
      throw new RangeError(`vector of ${b.length} bytes does not fit a ${prefix}-byte length`);
    if (prefix === 1) this.u8(b.length);
    else if (prefix === 2) this.u16(b.length);
    else this.u24(b.length);
    return this.raw(b);
  }
  get length(): number {
    return this.size;
  }
  finish(): Uint8Array {
    return concatBytes(this.parts, this.size);
  }
}

export function concatBytes(
  parts: readonly Uint8Array[],
  size = parts.reduce((n, p) => n + p.length, 0),
): Uint8Array {
  const out = new Uint8Array(size);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}
