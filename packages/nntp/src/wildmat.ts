/**
 * Wildmats (RFC 3977 §4): comma-separated patterns, each optionally negated with "!", where
 * "*" matches any run of characters and "?" exactly one (a UTF-8 character, not an octet).
 * The last pattern that matches decides (§4.2). RFC 3977 §4.1 has no brackets and no
 * backslash escapes (older wildmats did), so those are refused.
 *
 * A wildmat comes from the client (anonymous ones too, in LIST ACTIVE), so it is never turned
 * into a RegExp: a backtracking engine takes exponential time on "*?*?*?…Z" against a long
 * group name. Each pattern runs as a set simulation of its NFA instead: one pass over the
 * name keeping the set of pattern positions reached, O(name × pattern) at worst.
 */

/** RFC 3977 §4.1: characters a wildmat may not contain outside their special meaning. */
const FORBIDDEN = /[\\[\]\x00-\x20\x7f]/;

/** One pattern as code points, runs of "*" merged (the same language, fewer states). */
function tokenize(pattern: string): string[] {
  const out: string[] = [];
  for (const ch of pattern) {
    if (ch === '*' && out[out.length - 1] === '*') continue;
    out.push(ch);
  }
  return out;
}

/** Whether `name` matches one wildmat-pattern, in O(|name| × |tokens|). */
export function matchPattern(tokens: readonly string[], name: string): boolean {
  const m = tokens.length;
  let current = new Uint8Array(m + 1);
  let next = new Uint8Array(m + 1);
  // "*" may match the empty string (runs of "*" are merged, so one step is enough).
  const close = (set: Uint8Array): void => {
    for (let i = 0; i < m; i++) if (set[i] && tokens[i] === '*') set[i + 1] = 1;
  };
  current[0] = 1;
  close(current);
  for (const ch of name) {
    next.fill(0);
    let alive = false;
    for (let i = 0; i < m; i++) {
      if (!current[i]) continue;
      const t = tokens[i];
      if (t === '*') {
        next[i] = 1;
        alive = true;
      } else if (t === '?' || t === ch) {
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

/** A matcher, or undefined when the wildmat is malformed (the caller answers 501). */
export function compileWildmat(wildmat: string): ((name: string) => boolean) | undefined {
  if (wildmat === '' || FORBIDDEN.test(wildmat)) return undefined;
  const items: Array<{ negated: boolean; tokens: string[] }> = [];
  for (const part of wildmat.split(',')) {
    const negated = part.startsWith('!');
    const pattern = negated ? part.slice(1) : part;
    if (pattern === '' || pattern.includes('!')) return undefined;
    items.push({ negated, tokens: tokenize(pattern) });
  }
  return (name: string) => {
    for (let i = items.length - 1; i >= 0; i--) {
      if (matchPattern(items[i].tokens, name)) return !items[i].negated;
    }
    return false;
  };
}
