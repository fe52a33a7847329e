/**
 * Decoded text of the text/* parts, for SEARCH BODY/TEXT: transfer encoding (RFC 2045 §6)
 * and charset undone, capped so a huge message costs a bounded amount of memory.
 *
 * The raw body is held as views into the scanner's input (see ByteRuns) and copied once: by
 * the decoding itself, or by `detach()` when the input chunk may not outlive the scanner's
 * `write()` call.
 */
import { isAscii } from 'node:buffer';
import type { MimePart } from '../types.js';
import { ByteRuns } from './runs.js';

const MAX_TEXT = 1024 * 1024;
/** Encoded forms are larger than what they decode to: keep up to twice the cap. */
const RAW_CAP = MAX_TEXT * 2;

export interface TextSink {
  /** Body bytes `buf[start, end)` of the part; only valid until `detach()` or the next write. */
  write(buf: Uint8Array, start: number, end: number): void;
  end(): void;
  /** Copy whatever is still a view into the caller's chunk. */
  detach(): void;
}

export class TextCollector {
  private pieces: string[] = [];
  private total = 0;

  get full(): boolean {
    return this.total >= MAX_TEXT;
  }

  part(part: MimePart): TextSink {
    return new PartText(this, part);
  }

  /** @internal */
  add(text: string): void {
    const room = MAX_TEXT - this.total;
    const kept = text.length > room ? text.slice(0, room) : text;
    this.pieces.push(kept);
    this.total += kept.length;
  }

  result(): string {
    return this.pieces.length === 1 ? this.pieces[0]! : this.pieces.join('\n');
  }
}

class PartText implements TextSink {
  private readonly raw = new ByteRuns();

  constructor(
    private readonly collector: TextCollector,
    private readonly part: MimePart,
  ) {}

  write(buf: Uint8Array, start: number, end: number): void {
    const rawBytes = this.raw.length;
    if (this.collector.full || rawBytes >= RAW_CAP) return;
    if (end - start > RAW_CAP - rawBytes) end = start + (RAW_CAP - rawBytes);
    this.raw.add(buf, start, end);
  }

  detach(): void {
    this.raw.detach();
  }

  end(): void {
    if (this.collector.full || this.raw.length === 0) return;
    const owned = this.raw.ownsBytes;
    const body = this.raw.take();
    this.collector.add(decodeBody(body, owned, this.part.encoding, this.part.params.charset));
  }
}

const ascii = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');

/** Hex digit values, -1 for other bytes. */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 16; c++) {
  HEX[c.toString(16).charCodeAt(0)] = c;
  HEX[c.toString(16).toUpperCase().charCodeAt(0)] = c;
}

/** Where the next byte after `p` is once soft line breaks ("=" CRLF or "=" LF) are skipped. */
function skipSoftBreaks(src: Uint8Array, p: number, n: number): number {
  while (p < n && src[p] === 0x3d) {
    const c = src[p + 1];
    if (c === 0x0a) p += 2;
    else if (c === 0x0d && src[p + 2] === 0x0a) p += 3;
    else break;
  }
  return p;
}

/**
 * Quoted-printable as `text.replace(/=\r?\n/g, '').replace(/=([0-9A-Fa-f]{2})/g, …)` on the
 * body's latin1 text does it (soft breaks first, then escapes over what is left, so an escape
 * may straddle a soft break), in one pass over the bytes into `out` (which may be `src`).
 */
export function decodeQuotedPrintable(src: Uint8Array, out: Uint8Array): number {
  const n = src.length;
  let w = 0;
  let i = 0;
  while (i < n) {
    // Plain bytes up to the next "=".
    let c = src[i]!;
    while (c !== 0x3d) {
      out[w++] = c;
      if (++i === n) return w;
      c = src[i]!;
    }
    const next = src[i + 1];
    if (next === 0x0a) {
      i += 2;
      continue;
    }
    if (next === 0x0d && src[i + 2] === 0x0a) {
      i += 3;
      continue;
    }
    // An "=" that stays: an escape if the next two bytes left after soft breaks are hex.
    const p1 = next === 0x3d ? skipSoftBreaks(src, i + 1, n) : i + 1;
    const h1 = p1 < n ? HEX[src[p1]!]! : -1;
    if (h1 !== -1) {
      const p2 = src[p1 + 1] === 0x3d ? skipSoftBreaks(src, p1 + 1, n) : p1 + 1;
      const h2 = p2 < n ? HEX[src[p2]!]! : -1;
      if (h2 !== -1) {
        out[w++] = (h1 << 4) | h2;
        i = p2 + 1;
        continue;
      }
    }
    out[w++] = 0x3d;
    i++;
  }
  return w;
}

function decodeTransfer(body: Uint8Array, owned: boolean, encoding: string): Uint8Array {
  switch (encoding) {
    case 'BASE64':
      return Buffer.from(ascii(body).replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'QUOTED-PRINTABLE': {
      const out = owned ? body : Buffer.allocUnsafe(body.length);
      return out.subarray(0, decodeQuotedPrintable(body, out));
    }
    default:
      return body;
  }
}

interface Decoder {
  decoder: InstanceType<typeof TextDecoder>;
  /** Bytes 0x00–0x7F decode to themselves (UTF-8 and the WHATWG single-byte encodings). */
  asciiSafe: boolean;
}

const SINGLE_BYTE = /^(?:utf-8|ibm866|iso-8859-\d+|koi8-[ru]|macintosh|windows-\d+|x-mac-cyrillic)$/;
const decoders = new Map<string, Decoder>();
const utf8Decoder: Decoder = { decoder: new TextDecoder('utf-8'), asciiSafe: true };

function decoderFor(label: string | undefined): Decoder {
  if (!label) return utf8Decoder;
  let d = decoders.get(label);
  if (d) return d;
  try {
    const decoder = new TextDecoder(label);
    d = { decoder, asciiSafe: SINGLE_BYTE.test(decoder.encoding) };
  } catch {
    // WHATWG encodings (Node's full ICU): every charset mail uses in practice; unknown → UTF-8.
    d = utf8Decoder;
  }
  // Labels come from messages: remember a bounded number of them.
  if (decoders.size < 256) decoders.set(label, d);
  return d;
}

function decodeBody(body: Uint8Array, owned: boolean, encoding: string, charset: string | undefined): string {
  const bytes = decodeTransfer(body, owned, encoding);
  const d = decoderFor(charset);
  if (d.asciiSafe && isAscii(bytes)) return ascii(bytes);
  try {
    return d.decoder.decode(bytes);
  } catch {
    return utf8Decoder.decoder.decode(bytes);
  }
}

export function decodeText(body: Buffer, encoding: string, charset: string | undefined): string {
  return decodeBody(body, false, encoding, charset);
}
