/**
 * The index log's on-disk format. A log is a sequence of frames:
 *
 *   u32le payloadLength | u32le crc32(payload) | payload
 *
 * Frames are appended with one write() and fsynced before the write they record is
 * acknowledged, so a crash can only leave a torn *last* frame: a short frame or one whose
 * checksum fails ends the log, and the next writer truncates it away.
 *
 * Mail payloads are binary so that a 100k-message mailbox decodes in a few tens of ms:
 *   0 HEADER  JSON { v, uidValidity, uidNext, highestModseq }  (first frame; rewritten by compaction)
 *   1 NEW     u32 uid, f64 modseq, f64 size, f64 internalDate, flags (UTF-8, space separated)
 *   2 FLAGS   u32 uid, f64 modseq, flags
 *   3 EXPUNGE f64 modseq, u32 uid × n
 *   4 JSON    any JSON value (news logs)
 */
import { crc32 } from 'node:zlib';

export const FRAME_HEAD = 8;
/** Payloads above this are rejected as corruption (a flag list or overview never gets near). */
export const MAX_PAYLOAD = 16 * 1024 * 1024;

export enum RecordType {
  Header = 0,
  New = 1,
  Flags = 2,
  Expunge = 3,
  Json = 4,
}

export interface LogHeader {
  v: 1;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
}

export type MailRecord =
  | { type: RecordType.Header; header: LogHeader }
  | { type: RecordType.New; uid: number; modseq: number; size: number; internalDate: number; flags: string[] }
  | { type: RecordType.Flags; uid: number; modseq: number; flags: string[] }
  | { type: RecordType.Expunge; modseq: number; uids: number[] }
  | { type: RecordType.Json; value: unknown };

/** CRC-32 (IEEE, as zlib) lookup table, for checking frames in place. */
const CRC_TABLE = (() => {
  const t = new Int32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c;
  }
  return t;
})();

/**
 * zlib's crc32 of buf[start, end) without making a subarray per frame: replaying a 100k-frame
 * log spent more on those 100k Buffer views (and their garbage) than on the checksums.
 */
export function crc32Range(buf: Buffer, start: number, end: number): number {
  let c = -1;
  for (let i = start; i < end; i++) c = CRC_TABLE[(c ^ buf[i]) & 0xff] ^ (c >>> 8);
  return (c ^ -1) >>> 0;
}

export function frame(payload: Buffer): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEAD + payload.length);
  out.writeUInt32LE(payload.length, 0);
  out.writeUInt32LE(crc32(payload), 4);
  payload.copy(out, FRAME_HEAD);
  return out;
}

export function encodeRecord(r: MailRecord): Buffer {
  switch (r.type) {
    case RecordType.Header:
    case RecordType.Json: {
      const json = Buffer.from(JSON.stringify(r.type === RecordType.Header ? r.header : r.value), 'utf8');
      const p = Buffer.allocUnsafe(1 + json.length);
      p[0] = r.type;
      json.copy(p, 1);
      return frame(p);
    }
    case RecordType.New: {
      const flags = Buffer.from(r.flags.join(' '), 'utf8');
      const p = Buffer.allocUnsafe(1 + 4 + 8 * 3 + flags.length);
      p[0] = r.type;
      p.writeUInt32LE(r.uid, 1);
      p.writeDoubleLE(r.modseq, 5);
      p.writeDoubleLE(r.size, 13);
      p.writeDoubleLE(r.internalDate, 21);
      flags.copy(p, 29);
      return frame(p);
    }
    case RecordType.Flags: {
      const flags = Buffer.from(r.flags.join(' '), 'utf8');
      const p = Buffer.allocUnsafe(1 + 4 + 8 + flags.length);
      p[0] = r.type;
      p.writeUInt32LE(r.uid, 1);
      p.writeDoubleLE(r.modseq, 5);
      flags.copy(p, 13);
      return frame(p);
    }
    case RecordType.Expunge: {
      const p = Buffer.allocUnsafe(1 + 8 + 4 * r.uids.length);
      p[0] = r.type;
      p.writeDoubleLE(r.modseq, 1);
      r.uids.forEach((u, i) => p.writeUInt32LE(u, 9 + 4 * i));
      return frame(p);
    }
  }
}

/** Flag lists repeat endlessly across a mailbox; share one array per distinct text. */
const flagCache = new Map<string, string[]>();
function decodeFlags(buf: Buffer, start: number, end: number): string[] {
  if (start >= end) return EMPTY;
  const text = buf.toString('utf8', start, end);
  let flags = flagCache.get(text);
  if (!flags) {
    flags = Object.freeze(text.split(' ')) as string[];
    if (flagCache.size < 4096) flagCache.set(text, flags);
  }
  return flags;
}
const EMPTY = Object.freeze([]) as unknown as string[];

/** Decode one payload; throws on a malformed one (the frame's checksum passed, so it is a bug or tampering). */
export function decodeRecord(buf: Buffer, start: number, end: number): MailRecord {
  const type = buf[start] as RecordType;
  switch (type) {
    case RecordType.Header:
      return { type, header: JSON.parse(buf.toString('utf8', start + 1, end)) as LogHeader };
    case RecordType.Json:
      return { type, value: JSON.parse(buf.toString('utf8', start + 1, end)) as unknown };
    case RecordType.New:
      if (end - start < 29) throw new RangeError('short NEW record');
      return {
        type,
        uid: buf.readUInt32LE(start + 1),
        modseq: buf.readDoubleLE(start + 5),
        size: buf.readDoubleLE(start + 13),
        internalDate: buf.readDoubleLE(start + 21),
        flags: decodeFlags(buf, start + 29, end),
      };
    case RecordType.Flags:
      if (end - start < 13) throw new RangeError('short FLAGS record');
      return {
        type,
        uid: buf.readUInt32LE(start + 1),
        modseq: buf.readDoubleLE(start + 5),
        flags: decodeFlags(buf, start + 13, end),
      };
    case RecordType.Expunge: {
      if ((end - start - 9) % 4 !== 0 || end - start < 9) throw new RangeError('bad EXPUNGE record');
      const uids: number[] = [];
      for (let o = start + 9; o < end; o += 4) uids.push(buf.readUInt32LE(o));
      return { type, modseq: buf.readDoubleLE(start + 1), uids };
    }
    default:
      throw new RangeError(`unknown record type ${String(type)}`);
  }
}

/**
 * Walk the frames of `buf` from `offset`, calling `onRecord` for each whole, checksummed one.
 * Returns the offset just past the last good frame; anything after it is a torn tail (or a
 * frame still being written by another process).
 */
export function scanFrames(
  buf: Buffer,
  offset: number,
  onRecord: (r: MailRecord, end: number) => void,
): number {
  let pos = offset;
  while (pos + FRAME_HEAD <= buf.length) {
    const len = buf.readUInt32LE(pos);
    if (len === 0 || len > MAX_PAYLOAD) break;
    const end = pos + FRAME_HEAD + len;
    if (end > buf.length) break;
    if (crc32Range(buf, pos + FRAME_HEAD, end) !== buf.readUInt32LE(pos + 4)) break;
    let record: MailRecord;
    try {
      record = decodeRecord(buf, pos + FRAME_HEAD, end);
    } catch {
      break;
    }
    onRecord(record, end);
    pos = end;
  }
  return pos;
}
