/**
 * Dot-stuffing for SMTP DATA (RFC 5321 §4.5.2), POP3 multi-line replies (RFC 1939 §3) and NNTP
 * multi-line blocks (RFC 3977 §3.1.1). Sans-I/O: bytes in, bytes out.
 *
 * The decoder ends a block only at CRLF "." CRLF. A bare LF is data, never a line end: treating
 * `\n.\n` or `\r.\r` as the end is what made "SMTP smuggling" (2023) possible.
 */

const CR = 0x0d;
const LF = 0x0a;
const DOT = 0x2e;

export interface DotDecodeResult {
  /** Unstuffed payload produced from this input (views into it where possible). */
  readonly data: Buffer[];
  /** Octets of the input consumed; when `done`, the rest belongs to whatever follows the block. */
  readonly consumed: number;
  readonly done: boolean;
}

const EMPTY = Buffer.alloc(0);
/** A line start with a dot: the only place the decoder has anything to decide. */
const CRLF_DOT = Buffer.from('\r\n.', 'latin1');

export class DotDecoder {
  private atLineStart = true;
  private carry: Buffer = EMPTY;
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  /**
   * Feed input. Up to two octets that cannot yet be classified (a trailing CR, a dot at a line
   * start) are carried over to the next call and reported as consumed.
   *
   * Lines are not visited one by one: the decoder jumps from one CRLF "." to the next, and the
   * payload between two of them comes out as a single view into the input. A message without
   * leading dots is one piece per packet.
   */
  push(chunk: Buffer): DotDecodeResult {
    if (this.finished) return { data: [], consumed: 0, done: true };
    const carried = this.carry.length;
    const input = carried ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = EMPTY;
    const n = input.length;
    const out: Buffer[] = [];
    /** Start of the payload not yet emitted. */
    let run = 0;
    let pos = 0;
    while (pos < n) {
      if (this.atLineStart) {
        this.atLineStart = false;
        if (input[pos] !== DOT) continue;
        if (pos > run) out.push(input.subarray(run, pos));
        if (n - pos < 3 && !(n - pos === 2 && input[pos + 1] !== CR)) {
          // ".", ".\r": not decidable yet ("." + other is a stuffed dot, below).
          this.carry = Buffer.from(input.subarray(pos));
          this.atLineStart = true;
          return { data: out, consumed: chunk.length, done: false };
        }
        if (input[pos + 1] === CR && input[pos + 2] === LF) {
          this.finished = true;
          return { data: out, consumed: pos + 3 - carried, done: true };
        }
        pos++; // RFC 5321 §4.5.2: drop the first of a line's leading dots
        run = pos;
        continue;
      }
      // Inside a line. Only CRLF ends one; the next line that matters starts with a dot.
      const next = input.indexOf(CRLF_DOT, pos);
      if (next !== -1) {
        pos = next + 2;
        this.atLineStart = true;
        continue;
      }
      // No dotted line start in the rest: the input ends inside a line, or just after CRLF.
      if (input[n - 1] === CR) {
        // It may pair with an LF in the next packet.
        if (n - 1 > run) out.push(input.subarray(run, n - 1));
        this.carry = Buffer.from(input.subarray(n - 1));
        return { data: out, consumed: chunk.length, done: false };
      }
      // A CRLF that ends the input ends a line only if its CR is part of this line.
      this.atLineStart = n - 2 >= pos && input[n - 2] === CR && input[n - 1] === LF;
      pos = n;
    }
    if (n > run) out.push(input.subarray(run, n));
    return { data: out, consumed: chunk.length, done: false };
  }
}

/**
 * Encodes a message for a dot-terminated block: doubles a leading dot on every line and
 * appends the terminator, adding a CRLF first if the payload does not end with one.
 *
 * A dot is doubled after any LF, bare or not: a lenient reader that splits lines at a bare LF
 * must not see an early end, and a strict one (like DotDecoder) keeps the extra dot as data.
 */
export class DotEncoder {
  private atLineStart = true;
  /** The last two octets written, for the terminator: it must follow a real CRLF. */
  private tail = 0;
  private empty = true;

  encode(chunk: Buffer): Buffer {
    if (chunk.length === 0) return chunk;
    this.empty = false;
    const parts: Buffer[] = [];
    let pos = 0;
    while (pos < chunk.length) {
      if (this.atLineStart && chunk[pos] === DOT) parts.push(Buffer.from('.'));
      const nl = chunk.indexOf(LF, pos);
      if (nl === -1) {
        parts.push(chunk.subarray(pos));
        this.atLineStart = false;
        break;
      }
      parts.push(chunk.subarray(pos, nl + 1));
      pos = nl + 1;
      this.atLineStart = true;
    }
    this.tail = ((this.tail << 8) | chunk[chunk.length - 1]) & 0xffff;
    if (chunk.length > 1) this.tail = (chunk[chunk.length - 2] << 8) | chunk[chunk.length - 1];
    return parts.length === 1 ? parts[0] : Buffer.concat(parts);
  }

  /**
   * The terminator, preceded by CRLF when the payload did not end with CRLF (a payload ending
   * in a bare LF would otherwise never be seen to end: RFC 5321 §4.1.1.4 needs CRLF "." CRLF).
   */
  end(): Buffer {
    const endsWithCrlf = this.tail === ((CR << 8) | LF);
    return Buffer.from(this.empty || endsWithCrlf ? '.\r\n' : '\r\n.\r\n');
  }
}

/** Dot-stuff a whole buffer, terminator included. */
export function dotEncode(data: Buffer): Buffer {
  const enc = new DotEncoder();
  return Buffer.concat([enc.encode(data), enc.end()]);
}
