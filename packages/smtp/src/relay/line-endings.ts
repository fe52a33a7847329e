/**
 * Line endings for the outbound SMTP client: every bare CR and every bare LF becomes CRLF
 * before dot-stuffing (RFC 5321 §2.3.8: SMTP lines end in CRLF only; §4.5.2 stuffs dots at
 * line starts). A message that reached the queue with `\r.\r` or `\n.\n` in it would otherwise
 * leave a line that a lenient receiver reads as a lone dot, ending DATA early and smuggling
 * what follows as commands ("SMTP smuggling", 2023). Streaming: a CR at the end of a chunk
 * waits for the next one to know whether an LF follows.
 */
const CR = 0x0d;
const LF = 0x0a;
const CRLF = Buffer.from('\r\n', 'latin1');
const EMPTY = Buffer.alloc(0);

export class CrlfNormalizer {
  /** The previous chunk ended with a CR that is not written yet. */
  private pendingCr = false;

  push(chunk: Buffer): Buffer {
    const n = chunk.length;
    if (n === 0) return chunk;
    const parts: Buffer[] = [];
    let pos = 0;
    if (this.pendingCr) {
      this.pendingCr = false;
      parts.push(CRLF);
      if (chunk[0] === LF) pos = 1;
    }
    /** Start of the input not yet emitted. */
    let run = pos;
    let nextCr = chunk.indexOf(CR, pos);
    let nextLf = chunk.indexOf(LF, pos);
    while (nextCr !== -1 || nextLf !== -1) {
      if (nextLf !== -1 && (nextCr === -1 || nextLf < nextCr)) {
        // An LF with no CR before it (CRLF pairs are passed over below).
        parts.push(chunk.subarray(run, nextLf), CRLF);
        run = pos = nextLf + 1;
        nextLf = chunk.indexOf(LF, pos);
        continue;
      }
      if (nextCr === n - 1) {
        parts.push(chunk.subarray(run, nextCr));
        this.pendingCr = true;
        run = n;
        break;
      }
      if (chunk[nextCr + 1] === LF) {
        pos = nextCr + 2; // a real CRLF stays in the run
        nextLf = chunk.indexOf(LF, pos);
      } else {
        parts.push(chunk.subarray(run, nextCr), CRLF);
        run = pos = nextCr + 1;
      }
      nextCr = chunk.indexOf(CR, pos);
    }
    if (run === 0 && parts.length === 0) return chunk;
    if (run < n) parts.push(chunk.subarray(run));
    return Buffer.concat(parts);
  }

  /** What is still held back: a final CR becomes a CRLF. */
  end(): Buffer {
    if (!this.pendingCr) return EMPTY;
    this.pendingCr = false;
    return CRLF;
  }
}
