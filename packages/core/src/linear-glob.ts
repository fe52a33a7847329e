/**
 * Glob matching in linear time, for patterns that come from clients (IMAP LIST patterns, NNTP
 * wildmats). Such patterns are never turned into a RegExp: a backtracking engine takes
 * exponential time on "*a*a*a…b" against a long name. This is a Thompson-style simulation of
 * the pattern's NFA: one pass over the name keeping the set of pattern positions reached,
 * O(name × pattern) at worst, whatever the pattern. Each protocol turns its own syntax into
 * tokens; the matching is here once.
 */

/** One code point matched exactly, any one code point, or a run of code points (possibly
 * empty) that never contains `except`. */
export type GlobToken = { kind: 'char'; ch: string } | { kind: 'one' } | { kind: 'run'; except?: string };

/** Whether `name` matches the whole token sequence, code point by code point. */
export function matchGlob(tokens: readonly GlobToken[], name: string): boolean {
  const m = tokens.length;
  let current = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  // The epsilon moves: a run may match the empty string (the forward pass follows chains).
  const close = (set: Uint8Array): void => {
    for (let i = 0; i < m; i++) if (set[i] && tokens[i]!.kind === 'run') set[i + 1] = 1;
  };
  current[0] = 1;
  close(current);
  for (const ch of name) {
    next.fill(0);
    let alive = false;
    for (let i = 0; i < m; i++) {
      if (!current[i]) continue;
      const t = tokens[i]!;
      if (t.kind === 'run') {
        if (ch === t.except) continue;
        next[i] = 1;
        alive = true;
      } else if (t.kind === 'one' || t.ch === ch) {
        next[i + 1] = 1;
        alive = true;
      }
    }
    if (!alive) return false;
    close(next);
    [current, next] = [next, current];
  }
  return current[m] === 1;
}
