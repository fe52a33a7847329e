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

export class DotDecoder {
  private atLineStart = true;
  private carry: Buffer = Buffer.alloc(0);
  private finished = false;

  get done(): boolean {
    return this.finished;
  }

  /**
   * Feed input. Up to two octets that cannot yet be classified (a trailing CR, a dot at a line
   * start) are carried over to the next call and reported as consumed.
   */
  push(chunk: Buffer): DotDecodeResult {
    if (this.finished) return { data: [], consumed: 0, done: true };
    const carried = this.carry.length;
    const input = carried ? Buffer.concat([this.carry, chunk]) : chunk;
    this.carry = Buffer.alloc(0);
    const out: Buffer[] = [];
    let pos = 0;
    while (pos < input.length) {
      if (this.atLineStart) {
        if (input[pos] !== DOT) {
          this.atLineStart = false;
          continue;
        }
        if (input.length - pos < 3) {
          // ".", ".\r": not decidable yet; "." + other: a stuffed dot.
          if (input.length - pos === 2 && input[pos + 1] !== CR) {
            pos++;
            this.atLineStart = false;
            continue;
          }
          this.carry = Buffer.from(input.subarray(pos));
          pos = input.length;
          break;
        }
        if (input[pos + 1] === CR && input[pos + 2] === LF) {
          this.finished = true;
          return { data: out, consumed: pos + 3 - carried, done: true };
        }
        pos++; // RFC 5321 §4.5.2: drop the first of a line's leading dots
        this.atLineStart = false;
        continue;
      }
      const eol = input.indexOf('\r\n', pos, 'latin1');
      if (eol === -1) {
        let end = input.length;
        if (input[end - 1] === CR) end--;
        if (end > pos) out.push(input.subarray(pos, end));
        if (end < input.length) this.carry = Buffer.from(input.subarray(end));
        pos = input.length;
        break;
      }
      out.push(input.subarray(pos, eol + 2));
      pos = eol + 2;
      this.atLineStart = true;
    }
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
