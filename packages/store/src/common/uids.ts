/** UID helpers shared by backends and protocol code (RFC 3501 §9 sequence-set, RFC 4315 COPYUID). */
import type { UidRange } from '../types.js';

/** Valid UIDs (RFC 3501 §2.3.1.1: 1..2^32-1), deduplicated, ascending. */
export function normalizeUids(uids: Iterable<number>): number[] {
  const out = [...new Set(uids)].filter((u) => Number.isInteger(u) && u >= 1 && u <= 0xffffffff);
  return out.sort((a, b) => a - b);
}

export function inUidRange(uid: number, range: UidRange | undefined): boolean {
  return !range || (uid >= Math.min(range.start, range.end) && uid <= Math.max(range.start, range.end));
}

/** Ascending UIDs as the fewest ranges: [1,2,3,7] → [{1,3},{7,7}]. */
export function toUidRanges(uids: Iterable<number>): UidRange[] {
  const out: UidRange[] = [];
  for (const u of normalizeUids(uids)) {
    const last = out[out.length - 1];
    if (last && last.end === u - 1) last.end = u;
    else out.push({ start: u, end: u });
  }
  return out;
}

/** The compact sequence-set form, e.g. '1:3,7' (for COPYUID/APPENDUID and logs). */
export function formatUidSet(uids: Iterable<number>): string {
  return toUidRanges(uids)
    .map((r) => (r.start === r.end ? String(r.start) : `${r.start}:${r.end}`))
    .join(',');
}
