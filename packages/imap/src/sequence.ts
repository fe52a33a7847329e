/**
 * Sequence sets (RFC 3501 §9 sequence-set, and RFC 5182 '$' is not supported): ranges of
 * message sequence numbers or UIDs, '*' standing for the largest in use.
 */
import { bad } from './errors.js';
import type { Reader } from './parser.js';

export interface SeqRange {
  start: number;
  /** Inclusive; Infinity stands for '*'. */
  end: number;
}

export type SequenceSet = SeqRange[];

export function parseSequenceSet(r: Reader): SequenceSet {
  return parseSequenceText(r.sequenceText());
}

export function parseSequenceText(text: string): SequenceSet {
  if (!/^[0-9*:,]+$/.test(text)) throw bad('invalid sequence set');
  return text.split(',').map((part) => {
    const bounds = part.split(':');
    if (bounds.length > 2) throw bad('invalid sequence range');
    const nums = bounds.map((b) => {
      if (b === '*') return Infinity;
      if (!/^[1-9][0-9]{0,9}$/.test(b)) throw bad('invalid sequence number');
      const n = Number(b);
      if (n > 0xffffffff) throw bad('sequence number too large');
      return n;
    });
    const [a, b = a] = nums;
    return { start: Math.min(a, b), end: Math.max(a, b) };
  });
}

/** Does `n` fall in the set, with '*' meaning `max`? (RFC 3501 §9: "*" is the largest number in use.) */
export function inSet(set: SequenceSet, n: number, max: number): boolean {
  for (const { start, end } of set) {
    const lo = start === Infinity ? max : start;
    const hi = end === Infinity ? max : end;
    if (n >= Math.min(lo, hi) && n <= Math.max(lo, hi)) return true;
  }
  return false;
}

/** Format numbers as a compact sequence set ("1:3,7"). */
export function formatSet(nums: number[]): string {
  const sorted = [...nums].sort((a, b) => a - b);
  const out: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(i === j ? `${sorted[i]}` : `${sorted[i]}:${sorted[j]}`);
    i = j + 1;
  }
  return out.join(',');
}
