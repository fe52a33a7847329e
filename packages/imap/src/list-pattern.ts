/**
 * LIST / LSUB mailbox patterns (RFC 3501 §6.3.8): '*' matches any run of characters, '%' any
 * run without the hierarchy delimiter, everything else itself. Patterns come from clients, so
 * they are never turned into a RegExp: a backtracking engine takes exponential time on
 * "*a*a*a…b" against a long name. This is a Thompson-style simulation of the pattern's NFA:
 * one pass over the name keeping the set of pattern positions reached, O(name × pattern)
 * at worst, whatever the pattern.
 */

/** A pattern token: one code point to match exactly, or a wildcard. */
type Token = string;

export type PatternMatcher = (name: string) => boolean;

/** Never matches: the pattern needs more characters than any name can have. */
const NOTHING: PatternMatcher = () => false;

function isWild(t: Token): boolean {
  return t === '*' || t === '%';
}

/**
 * Tokens with runs of wildcards merged ("**", "*%", "%*" are "*"; "%%" is "%"): the same
 * language, and no two adjacent wildcards left, which bounds the pattern by the name.
 */
function tokenize(pattern: string): Token[] {
  const out: Token[] = [];
  for (const ch of pattern) {
    const prev = out[out.length - 1];
    if (isWild(ch) && prev !== undefined && isWild(prev)) {
      if (ch === '*') out[out.length - 1] = '*';
      continue;
    }
    out.push(ch);
  }
  return out;
}

/**
 * Compile a pattern. `delimiter` is the hierarchy delimiter '%' does not cross;
 * `maxNameLength` (in code points) lets a pattern that needs more characters than that be
 * refused at once.
 */
export function compileListPattern(
  pattern: string,
  delimiter: string,
  maxNameLength: number,
): PatternMatcher {
  const tokens = tokenize(pattern);
  const exact = tokens.filter((t) => !isWild(t)).length;
  if (exact > maxNameLength) return NOTHING;
  const m = tokens.length;
  return (name: string): boolean => {
    let current = new Uint8Array(m + 1);
    let next = new Uint8Array(m + 1);
    // The epsilon moves: a wildcard may match the empty string.
    const close = (set: Uint8Array): void => {
      for (let i = 0; i < m; i++) if (set[i] && isWild(tokens[i])) set[i + 1] = 1;
    };
    current[0] = 1;
    close(current);
    for (const ch of name) {
      next.fill(0);
      let alive = false;
      for (let i = 0; i < m; i++) {
        if (!current[i]) continue;
        const t = tokens[i];
        if (t === '*' || (t === '%' && ch !== delimiter)) {
          next[i] = 1;
          alive = true;
        } else if (t === ch) {
          next[i + 1] = 1;
          alive = true;
        }
      }
      if (!alive) return false;
      close(next);
      [current, next] = [next, current];
    }
    return current[m] === 1;
  };
}
