/**
 * One streaming pass over a message that builds the MIME tree with exact byte offsets
 * (RFC 2045, RFC 2046 §5.1.1 boundaries, message/rfc822 nesting). Memory stays bounded
 * whatever the message size: only header blocks (capped), the boundary stack and a capped
 * slice of text bodies are kept. Broken MIME is indexed as far as it makes sense; nothing
 * here throws on input.
 */
import type { MimePart } from '../types.js';
import { contentFields, parseHeaderBlock, type HeaderList } from './headers.js';
import { TextCollector } from './text.js';

const MAX_HEADER_BYTES = 256 * 1024;
/** Bytes of a line kept for boundary and header checks (the rest is counted, not kept). */
const MAX_LINE_KEEP = 2048;
const MAX_DEPTH = 64;
/** A line that starts with "--" may be a delimiter (RFC 2046 §5.1.1). */
const DASH_LINE = Buffer.from('\n--', 'latin1');

interface Frame {
  part: MimePart;
  state: 'headers' | 'body';
  header: string;
  headerBytes: number;
  headers: HeaderList;
  /** Multipart boundary, when this part is a multipart with one. */
  boundary?: string;
  /** Within a multipart: 'preamble' before the first delimiter, 'epilogue' after the close. */
  multipartPhase?: 'preamble' | 'parts' | 'epilogue';
  parentIsDigest: boolean;
  /** Line feeds counted in the body so far, and the body's last two bytes. */
  lfCount: number;
  lastByteLf: boolean;
  last2: number;
  text?: { write(b: Uint8Array): void; end(): void };
  /** For message/rfc822 frames: the child frame is the embedded message's root. */
  embedded?: boolean;
}

export interface ScanResult {
  root: MimePart;
  /** Header fields of each message (root and embedded), keyed by the part they head. */
  headersOf: Map<MimePart, HeaderList>;
  size: number;
  text: string;
  lines: number;
}

/** Header bytes were kept as latin1 text; RFC 6532 lets them be UTF-8. */
function utf8(latin1: string): string {
  return Buffer.from(latin1, 'latin1').toString('utf8');
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

export class MimeScanner {
  private stack: Frame[] = [];
  private offset = 0;
  private line: Buffer[] = [];
  private lineKept = 0;
  private lineStart = 0;
  private readonly headersOf = new Map<MimePart, HeaderList>();
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
      header: '',
      headerBytes: 0,
      headers: [],
      parentIsDigest,
      lfCount: 0,
      lastByteLf: true,
      last2: 0,
    };
  }

  write(chunk: Uint8Array): void {
    let pos = 0;
    while (pos < chunk.length) {
      const lf = chunk.indexOf(10, pos);
      const end = lf === -1 ? chunk.length : lf + 1;
      const plain = lf === -1 ? 0 : this.plainBodyLines(chunk, pos);
      if (plain > 0) {
        // The common case, without a copy per line: what endLine() would do with each of them.
        const run = chunk.subarray(pos, plain);
        if (this.root.bodyStart > 0 || this.stack[0]!.state === 'body') {
          for (let i = lf; i !== -1 && i < plain; i = chunk.indexOf(10, i + 1)) this.bodyLines++;
          this.bodyLastLf = true;
        }
        this.offset += run.length;
        this.lineStart = this.offset;
        this.countAll(run);
        pos = plain;
        continue;
      }
      const piece = chunk.subarray(pos, end);
      if (this.lineKept < MAX_LINE_KEEP) {
        const keep = piece.subarray(0, MAX_LINE_KEEP - this.lineKept);
        this.line.push(Buffer.from(keep));
        this.lineKept += keep.length;
      }
      if (this.root.bodyStart > 0 || this.stack[0]!.state === 'body') {
        if (lf !== -1) this.bodyLines++;
        this.bodyLastLf = lf !== -1;
      }
      this.feedBody(piece, lf !== -1);
      this.offset += piece.length;
      pos = end;
      if (lf !== -1) this.endLine();
    }
  }

  /**
   * Whole lines from `pos` (a line start) that can only be body bytes: the innermost part is
   * in its body and none of them starts with "--", so none is a header or a delimiter. Returns
   * where they end (after their last LF), or 0 when the line at `pos` needs a closer look.
   */
  private plainBodyLines(chunk: Uint8Array, pos: number): number {
    if (this.lineKept !== 0 || this.pendingBytes !== 0 || this.longLine) return 0;
    if (this.top().state !== 'body') return 0;
    if (chunk[pos] === 0x2d && (pos + 1 >= chunk.length || chunk[pos + 1] === 0x2d)) return 0;
    const dashes = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).indexOf(DASH_LINE, pos);
    const limit = dashes === -1 ? chunk.length : dashes + 1;
    return chunk.lastIndexOf(10, limit - 1) + 1;
  }

  /**
   * Pieces of the current line. They are counted once the line is judged: a delimiter line
   * belongs to no body. Long lines keep only their first pieces whole for that judgement;
   * a line longer than MAX_LINE_KEEP cannot be a delimiter, so its pieces are counted as
   * they come (bounded memory for binary bodies).
   */
  private pendingBody: Uint8Array[] = [];
  private pendingBytes = 0;

  private feedBody(piece: Uint8Array, _endsLine: boolean): void {
    if (this.pendingBytes + piece.length > MAX_LINE_KEEP) {
      const flushed = this.pendingBody;
      this.pendingBody = [];
      this.pendingBytes = 0;
      for (const p of flushed) this.countAll(p);
      this.countAll(piece);
      this.longLine = true;
      return;
    }
    this.pendingBody.push(piece);
    this.pendingBytes += piece.length;
  }

  private longLine = false;

  private endLine(): void {
    const lineBuf = Buffer.concat(this.line);
    const start = this.lineStart;
    const end = this.offset;
    this.line = [];
    this.lineKept = 0;
    this.lineStart = end;
    const pending = this.pendingBody;
    const long = this.longLine;
    this.pendingBody = [];
    this.pendingBytes = 0;
    this.longLine = false;
    const bare = lineBuf.toString('latin1').replace(/\r?\n$/, '');
    this.handleLine(bare, lineBuf, start, end, pending, long);
  }

  private top(): Frame {
    return this.stack[this.stack.length - 1]!;
  }

  private handleLine(
    bare: string,
    raw: Buffer,
    start: number,
    end: number,
    pending: Uint8Array[],
    long: boolean,
  ): void {
    // A delimiter of any enclosing multipart (innermost first) ends the parts inside it.
    if (!long && bare.startsWith('--')) {
      for (let i = this.stack.length - 1; i >= 0; i--) {
        const m = this.stack[i]!;
        if (!m.boundary || m.multipartPhase === 'epilogue' || m.state !== 'body') continue;
        const b = m.boundary;
        if (!bare.startsWith('--' + b)) continue;
        const rest = bare.slice(2 + b.length);
        const closing = rest.startsWith('--');
        // RFC 2046 §5.1.1: only whitespace may follow the delimiter.
        if (!/^[ \t]*$/.test(closing ? rest.slice(2) : rest)) continue;
        // The delimiter line is still body content of any message/rfc822 enclosing this
        // multipart: its size and line count (RFC 3501 §7.4.2 body lines) include it.
        for (let j = 0; j < i; j++) {
          const outer = this.stack[j]!;
          if (outer.state === 'body' && outer.part.type !== 'multipart')
            for (const p of pending) this.countBody(outer, p);
        }
        this.delimiter(i, closing, start, end);
        return;
      }
    }
    for (const p of pending) this.countAll(p);
    const f = this.top();
    if (f.state !== 'headers') return;
    if (bare === '' && !long) return this.endHeaders(f, end);
    if (f.headerBytes < MAX_HEADER_BYTES) {
      f.header += raw.toString('latin1');
      f.headerBytes += raw.length;
    }
  }

  /** Body bytes count for every open non-multipart part they are inside. */
  private countAll(bytes: Uint8Array): void {
    for (const f of this.stack)
      if (f.state === 'body' && f.part.type !== 'multipart') this.countBody(f, bytes);
  }

  private countBody(f: Frame, bytes: Uint8Array): void {
    for (let i = bytes.indexOf(10); i !== -1; i = bytes.indexOf(10, i + 1)) f.lfCount++;
    if (bytes.length >= 2) f.last2 = (bytes[bytes.length - 2]! << 8) | bytes[bytes.length - 1]!;
    else if (bytes.length === 1) f.last2 = ((f.last2 & 0xff) << 8) | bytes[0]!;
    if (bytes.length) f.lastByteLf = bytes[bytes.length - 1] === 10;
    f.text?.write(bytes);
  }

  private endHeaders(f: Frame, bodyStart: number): void {
    f.state = 'body';
    f.part.bodyStart = bodyStart;
    f.part.bodyEnd = bodyStart;
    f.headers = parseHeaderBlock(utf8(f.header));
    f.header = '';
    this.headersOf.set(f.part, f.headers);
    Object.assign(f.part, contentFields(f.headers, f.parentIsDigest));
    const { part } = f;
    if (part.type === 'multipart' && part.params.boundary && this.stack.length < MAX_DEPTH) {
      f.boundary = part.params.boundary;
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
      f.headers = parseHeaderBlock(utf8(f.header));
      this.headersOf.set(part, f.headers);
      Object.assign(part, contentFields(f.headers, f.parentIsDigest));
      part.bodyStart = end;
      part.bodyEnd = end;
      return;
    }
    let bodyEnd = end;
    let lf = f.lfCount;
    if (byDelimiter && bodyEnd > part.bodyStart) {
      // Drop the CRLF (or bare LF) that belongs to the delimiter.
      bodyEnd -= f.last2 === 0x0d0a ? 2 : 1;
      lf -= 1;
      part.lines = bodyEnd > part.bodyStart ? lf + 1 : 0;
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
    if (this.line.length || this.pendingBody.length) {
      // A last line without a line ending.
      const pending = this.pendingBody;
      const long = this.longLine;
      this.pendingBody = [];
      this.pendingBytes = 0;
      const raw = Buffer.concat(this.line);
      this.line = [];
      this.handleLine(raw.toString('latin1'), raw, this.lineStart, this.offset, pending, long);
    }
    while (this.stack.length) this.close(this.stack.length - 1, this.offset, false);
    const lines = this.bodyLines + (this.bodyLastLf ? 0 : 1);
    return { root: this.root, headersOf: this.headersOf, size: this.offset, text: this.text.result(), lines };
  }
}
