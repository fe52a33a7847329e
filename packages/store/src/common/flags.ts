/** Message flags as stored (RFC 3501 §2.3.2): case-insensitive, unique, never \Recent. */
import type { FlagMode } from '../types.js';

/** \Recent is a session flag (RFC 3501 §2.3.2) and is never stored; duplicates go. */
export function normalizeFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const f of flags) {
    const lower = f.toLowerCase();
    if (lower === '\\recent' || seen.has(lower)) continue;
    seen.add(lower);
    out.push(f);
  }
  return out;
}

/** STORE FLAGS / +FLAGS / -FLAGS (RFC 3501 §6.4.6). */
export function applyFlagMode(
  current: readonly string[],
  mode: FlagMode,
  flags: readonly string[],
): string[] {
  switch (mode) {
    case 'set':
      return normalizeFlags(flags);
    case 'add':
      return normalizeFlags([...current, ...flags]);
    case 'remove': {
      const drop = new Set(flags.map((f) => f.toLowerCase()));
      return current.filter((f) => !drop.has(f.toLowerCase()));
    }
  }
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => s.has(f.toLowerCase()));
}

export function hasFlag(flags: readonly string[], flag: string): boolean {
  const lower = flag.toLowerCase();
  return flags.some((f) => f.toLowerCase() === lower);
}
