/**
 * One streaming pass over a message that builds the MIME tree with exact byte offsets
 * (RFC 2045, RFC 2046 §5.1.1 boundaries, message/rfc822 nesting). Memory stays bounded
 * whatever the message size: only header blocks (capped), the boundary stack and a capped
 * slice of text bodies are kept. Broken MIME is indexed as far as it makes sense; nothing
 * here throws on input.
 */
import type { MimePart } from '../types.js';
import { contentFields, fieldsOf, parseHeaderBlock, type HeaderFields, type HeaderList } from './headers.js';
import { ByteRuns } from './runs.js';
import { TextCollector, type TextSink } from './text.js';

const MAX_HEADER_BYTES = 256 * 1024;
/** Bytes of a line kept for boundary and header checks (the rest is counted, not kept). */
const MAX_LINE_KEEP = 2048;
const MAX_DEPTH = 64;
/** A line that starts with "--" may be a delimiter (RFC 2046 §5.1.1). */
const DASH_LINE = Buffer.from('\n--', 'latin1');

interface Frame {
  part: MimePart;
  state: 'headers' | 'body';
  /** The header lines seen so far (each capped at MAX_LINE_KEEP), while in 'headers'. */
  header: ByteRuns;
  headers: HeaderList;
  /** Multipart boundary, when this part is a multipart with one. */
  boundary?: string;
  /** The delimiter's bytes as lines are compared with them (latin1); null: none can match. */
  boundaryBytes?: Buffer | null;
  /** Within a multipart: 'preamble' before the first delimiter, 'epilogue' after the close. */
  multipartPhase?: 'preamble' | 'parts' | 'epilogue';
  parentIsDigest: boolean;
  /** Line feeds counted in the body so far, and the body's last three bytes (last in the low byte). */
  lfCount: number;
  lastByteLf: boolean;
  last3: number;
  text?: TextSink;
  /** For message/rfc822 frames: the child frame is the embedded message's root. */
  embedded?: boolean;
}

export interface ScanResult {
  root: MimePart;
  /** Header fields of each message (root and embedded), keyed by the part they head. */
  headersOf: Map<MimePart, HeaderList>;
  /** The same fields by lower-case name (first of each). */
  fieldsOf: Map<MimePart, HeaderFields>;
  size: number;
  text: string;
  lines: number;
}

function newPart(path: string, headerStart: number): MimePart {
  return {
    path,
    type: 'text',
    subtype: 'plain',
    params: {},
    id: null,
    description: null,
    encoding: '7BIT',
    disposition: null,
    language: null,
    location: null,
    md5: null,
    headerStart,
    bodyStart: headerStart,
    bodyEnd: headerStart,
    lines: 0,
    parts: [],
  };
}

function countLf(buf: Uint8Array, start: number, end: number): number {
  let n = 0;
  for (let i = buf.indexOf(10, start); i !== -1 && i < end; i = buf.indexOf(10, i + 1)) n++;
  return n;
}

/** The bytes a boundary is matched with: the line is read as latin1, as the header was. */
function boundaryBytes(boundary: string): Buffer | null {
  for (let i = 0; i < boundary.length; i++) if (boundary.charCodeAt(i) > 0xff) return null;
  return Buffer.from(boundary, 'latin1');
}

/** A header block's bytes as text: RFC 6532 lets them be UTF-8. */
const headerText = (runs: ByteRuns) => (runs.length === 0 ? '' : runs.take().toString('utf8'));

/**
 * Lines are handled where they lie in the input chunk (offsets, no copies); only a line that
 * spans chunks is gathered into a buffer of its own, and of a line longer than MAX_LINE_KEEP
 * only the first MAX_LINE_KEEP bytes are kept (a line that long can be no delimiter).
 */
export class MimeScanner {
  private stack: Frame[] = [];
  private offset = 0;
  /** A line that spans chunks: its kept bytes so far (copies), and whether it is long. */
  private partialLine = false;
  private line: Uint8Array[] = [];
  private lineKept = 0;
  private longLine = false;
  private lineStart = 0;
  private readonly headersOf = new Map<MimePart, HeaderList>();
  private readonly fieldsOf = new Map<MimePart, HeaderFields>();
  private readonly text = new TextCollector();
  /** Lines of the whole body of the message (NNTP :lines, RFC 3977 §8.5.2). */
  private bodyLines = 0;
  private bodyLastLf = true;
  readonly root: MimePart;

  constructor() {
    this.root = newPart('', 0);
    this.stack.push(this.frame(this.root, false));
  }

  private frame(part: MimePart, parentIsDigest: boolean): Frame {
    return {
      part,
      state: 'headers',
      header: new ByteRuns(),
      headers: [],
      parentIsDigest,
      lfCount: 0,
      lastByteLf: true,
      last3: 0,
    };
  }

  private inRootBody(): boolean {
    return this.root.bodyStart > 0 || this.stack[0]!.state === 'body';
  }

  /**
   * Scan the next chunk. Unless `keep` is set, nothing refers to the chunk once this returns
   * (what is kept of it is copied); with `keep` the caller leaves it unchanged until end().
   */
  write(input: Uint8Array, keep = false): void {
    const chunk = Buffer.isBuffer(input)
      ? input
      : Buffer.from(input.buffer, input.byteOffset, input.byteLength);
    const n = chunk.length;
    let pos = 0;
    while (pos < n) {
      const lf = chunk.indexOf(10, pos);
      if (this.partialLine || lf === -1) {
        // A line that began in an earlier chunk, or goes on in the next one.
        const end = lf === -1 ? n : lf + 1;
        this.partial(chunk, pos, end, lf !== -1);
        pos = end;
        if (lf !== -1) this.endPartialLine();
        continue;
      }
      const plain = this.plainBodyLines(chunk, pos);
      if (plain > 0) {
        // The common case: whole lines that can only be body bytes, taken at once.
        const lfs = countLf(chunk, lf, plain);
        if (this.inRootBody()) {
          this.bodyLines += lfs;
          this.bodyLastLf = true;
        }
        this.offset += plain - pos;
        this.lineStart = this.offset;
        this.countAll(chunk, pos, plain, lfs);
        pos = plain;
        continue;
      }
      // One whole line, judged where it lies.
      const end = lf + 1;
      if (this.inRootBody()) {
        this.bodyLines++;
        this.bodyLastLf = true;
      }
      const start = this.offset;
      this.offset += end - pos;
      this.lineStart = this.offset;
      if (end - pos > MAX_LINE_KEEP) {
        this.countAll(chunk, pos, end, 1);
        this.handleLine(chunk, pos, pos + MAX_LINE_KEEP, start, this.offset, true);
      } else {
        this.handleLine(chunk, pos, end, start, this.offset, false);
      }
      pos = end;
    }
    if (!keep) this.detach();
  }

  /** Copy what the open frames still refer to in the caller's chunk. */
  private detach(): void {
    for (const f of this.stack) {
      if (f.state === 'headers') f.header.detach();
      f.text?.detach();
    }
  }

  /**
   * Whole lines from `pos` (a line start) that can only be body bytes: the innermost part is
   * in its body and none of them starts with "--", so none is a header or a delimiter. Returns
   * where they end (after their last LF), or 0 when the line at `pos` needs a closer look.
   */
  private plainBodyLines(chunk: Buffer, pos: number): number {
    if (this.top().state !== 'body') return 0;
    if (chunk[pos] === 0x2d && (pos + 1 >= chunk.length || chunk[pos + 1] === 0x2d)) return 0;
    const dashes = chunk.indexOf(DASH_LINE, pos);
    const limit = dashes === -1 ? chunk.length : dashes + 1;
    return chunk.lastIndexOf(10, limit - 1) + 1;
  }

  /**
   * A piece of a line that spans chunks. Its first MAX_LINE_KEEP bytes are kept (copied) for
   * the judgement of the line; they are counted as body once the line is judged, since a
   * delimiter line belongs to no body. A line that grows longer than that cannot be a
   * delimiter: its bytes are counted as they come (bounded memory for binary bodies).
   */
  private partial(chunk: Buffer, start: number, end: number, endsLine: boolean): void {
    if (!this.partialLine) {
      this.partialLine = true;
      this.lineStart = this.offset;
    }
    const length = end - start;
    if (this.inRootBody()) {
      if (endsLine) this.bodyLines++;
      this.bodyLastLf = endsLine;
    }
    const lfs = endsLine ? 1 : 0;
    if (this.longLine) {
      this.countAll(chunk, start, end, lfs);
    } else if (this.lineKept + length > MAX_LINE_KEEP) {
      // Longer than can be kept whole: count what was held back, and this piece.
      for (const p of this.line) this.countAll(p, 0, p.length, 0);
      this.countAll(chunk, start, end, lfs);
      this.longLine = true;
    }
    if (this.lineKept < MAX_LINE_KEEP) {
      const keep = Math.min(length, MAX_LINE_KEEP - this.lineKept);
      this.line.push(Buffer.from(chunk.subarray(start, start + keep)));
      this.lineKept += keep;
    }
    this.offset += length;
  }

  private endPartialLine(): void {
    const lineBuf = this.line.length === 1 ? this.line[0]! : Buffer.concat(this.line);
    const long = this.longLine;
    const start = this.lineStart;
    this.partialLine = false;
    this.line = [];
    this.lineKept = 0;
    this.longLine = false;
    this.lineStart = this.offset;
    this.handleLine(lineBuf, 0, lineBuf.length, start, this.offset, long);
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  /**
   * A whole line: its kept bytes are `buf[s, e)` (all of it unless `long`), and it spans
   * `[start, end)` of the message. The bytes of a line that is not long are counted here.
   */
  private handleLine(buf: Uint8Array, s: number, e: number, start: number, end: number, long: boolean): void {
    // The line without its line ending (LF or CRLF).
    let be = e;
    if (be > s && buf[be - 1] === 10) {
      be--;
      if (be > s && buf[be - 1] === 13) be--;
    }
    // A delimiter of any enclosing multipart (innermost first) ends the parts inside it.
    if (!long && be - s >= 2 && buf[s] === 0x2d && buf[s + 1] === 0x2d) {
      for (let i = this.stack.length - 1; i >= 0; i--) {
        const m = this.stack[i]!;
        if (!m.boundary || m.multipartPhase === 'epilogue' || m.state !== 'body') continue;
        const closing = this.delimiterMatch(m.boundaryBytes!, buf, s + 2, be);
        if (closing === -1) continue;
        // The delimiter line is still body content of any message/rfc822 enclosing this
        // multipart: its size and line count (RFC 3501 §7.4.2 body lines) include it.
        let lfs = -1;
        for (let j = 0; j < i; j++) {
          const outer = this.stack[j]!;
          if (outer.state === 'body' && outer.part.type !== 'multipart') {
            if (lfs === -1) lfs = countLf(buf, s, e);
            this.countBody(outer, buf, s, e, lfs);
          }
        }
        this.delimiter(i, closing === 1, start, end);
        return;
      }
    }
    if (!long) this.countAll(buf, s, e, -1);
    const f = this.top();
    if (f.state !== 'headers') return;
    if (be === s && !long) return this.endHeaders(f, end);
    if (f.header.length < MAX_HEADER_BYTES) f.header.add(buf, s, e);
  }

  /**
   * Whether `buf[s, be)` (a line after its "--", without its line ending) is the boundary
   * followed by only whitespace (RFC 2046 §5.1.1): -1 if not, 0 for a delimiter, 1 for the
   * close delimiter (the boundary and "--").
   */
  private delimiterMatch(boundary: Buffer | null, buf: Uint8Array, s: number, be: number): number {
    if (boundary === null) return -1;
    const bl = boundary.length;
    if (be - s < bl) return -1;
    for (let k = 0; k < bl; k++) if (buf[s + k] !== boundary[k]) return -1;
    let r = s + bl;
    const closing = be - r >= 2 && buf[r] === 0x2d && buf[r + 1] === 0x2d ? 1 : 0;
    if (closing) r += 2;
    for (; r < be; r++) if (buf[r] !== 0x20 && buf[r] !== 0x09) return -1;
    return closing;
  }

  /**
   * Body bytes `buf[s, e)` count for every open non-multipart part they are inside. `lfs`:
   * the line feeds among them, or -1 when not counted yet.
   */
  private countAll(buf: Uint8Array, s: number, e: number, lfs: number): void {
    if (e <= s) return;
    for (const f of this.stack)
      if (f.state === 'body' && f.part.type !== 'multipart') {
        if (lfs === -1) lfs = countLf(buf, s, e);
        this.countBody(f, buf, s, e, lfs);
      }
  }

  private countBody(f: Frame, buf: Uint8Array, s: number, e: number, lfs: number): void {
    f.lfCount += lfs;
    if (e - s >= 3) f.last3 = (buf[e - 3]! << 16) | (buf[e - 2]! << 8) | buf[e - 1]!;
    else for (let i = s; i < e; i++) f.last3 = ((f.last3 << 8) | buf[i]!) & 0xffffff;
    if (e > s) f.lastByteLf = buf[e - 1] === 10;
    f.text?.write(buf, s, e);
  }

  private parseHeaders(f: Frame): void {
    f.headers = parseHeaderBlock(headerText(f.header));
    const fields = fieldsOf(f.headers);
    this.headersOf.set(f.part, f.headers);
    this.fieldsOf.set(f.part, fields);
    Object.assign(f.part, contentFields(f.headers, f.parentIsDigest, fields));
  }

  private endHeaders(f: Frame, bodyStart: number): void {
    f.state = 'body';
    f.part.bodyStart = bodyStart;
    f.part.bodyEnd = bodyStart;
    this.parseHeaders(f);
    const { part } = f;
    if (part.type === 'multipart' && part.params.boundary && this.stack.length < MAX_DEPTH) {
      f.boundary = part.params.boundary;
      f.boundaryBytes = boundaryBytes(f.boundary);
      f.multipartPhase = 'preamble';
    } else if (part.type === 'multipart') {
      // No boundary: the body cannot be split; index it as opaque content (RFC 2046 §5.1.1).
      f.boundary = undefined;
    } else if (part.type === 'message' && part.subtype === 'rfc822' && this.stack.length < MAX_DEPTH) {
      const inner = newPart(part.path, bodyStart);
      part.message = { envelope: undefined as never, root: inner };
      f.embedded = true;
      this.stack.push(this.frame(inner, false));
    } else if (part.type === 'text') {
      f.text = this.text.part(part);
    }
  }

  /** A delimiter line for the multipart at stack index `i`. */
  private delimiter(i: number, closing: boolean, lineStart: number, lineEnd: number): void {
    // RFC 2046 §5.1.1: the line ending before the delimiter belongs to the delimiter.
    while (this.stack.length - 1 > i) this.close(this.stack.length - 1, lineStart, true);
    const m = this.stack[i]!;
    if (closing) {
      m.multipartPhase = 'epilogue';
      return;
    }
    m.multipartPhase = 'parts';
    const n = m.part.parts.length + 1;
    const path = m.part.path ? `${m.part.path}.${n}` : String(n);
    const child = newPart(path, lineEnd);
    m.part.parts.push(child);
    this.stack.push(this.frame(child, m.part.subtype === 'digest'));
  }

  /** Close the frame at `i` whose body ends where `end` says. */
  private close(i: number, end: number, byDelimiter: boolean): void {
    const f = this.stack[i]!;
    this.stack.length = i;
    const part = f.part;
    if (f.state === 'headers') {
      // Headers never ended: everything seen is header, the body is empty.
      this.parseHeaders(f);
      part.bodyStart = end;
      part.bodyEnd = end;
      return;
    }
    let bodyEnd = end;
    let lf = f.lfCount;
    if (byDelimiter && bodyEnd > part.bodyStart) {
      // Drop the CRLF (or bare LF) that belongs to the delimiter (RFC 2046 §5.1.1).
      const crlf = (f.last3 & 0xffff) === 0x0d0a;
      bodyEnd -= crlf ? 2 : 1;
      lf -= 1;
      // RFC 3501 §7.4.2 body-fld-lines: a body left ending in LF ("hello" CRLF) has no
      // unfinished last line to count; one ending elsewhere ("hello") has.
      const before = crlf ? f.last3 >>> 16 : (f.last3 >>> 8) & 0xff;
      part.lines = bodyEnd > part.bodyStart ? lf + (before === 10 ? 0 : 1) : 0;
    } else {
      part.lines = lf + (bodyEnd > part.bodyStart && !f.lastByteLf ? 1 : 0);
    }
    part.bodyEnd = Math.max(bodyEnd, part.bodyStart);
    if (f.boundary || part.type === 'multipart') part.lines = 0;
    f.text?.end();
    if (part.message) {
      // The embedded message ended with its container.
      part.message.root.bodyEnd = Math.min(part.message.root.bodyEnd, part.bodyEnd);
    }
  }

  end(): ScanResult {
    // A last line without a line ending.
    if (this.partialLine) this.endPartialLine();
    while (this.stack.length) this.close(this.stack.length - 1, this.offset, false);
    const lines = this.bodyLines + (this.bodyLastLf ? 0 : 1);
    return {
      root: this.root,
      headersOf: this.headersOf,
      fieldsOf: this.fieldsOf,
      size: this.offset,
      text: this.text.result(),
      lines,
    };
  }
}
