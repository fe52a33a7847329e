/**
 * LIST / LSUB mailbox patterns (RFC 3501 §6.3.8): '*' matches any run of characters, '%' any
 * run without the hierarchy delimiter, everything else itself. Patterns come from clients, so
 * they are never turned into a RegExp: core's matchGlob runs them in O(name × pattern).
 */
import { matchGlob, type GlobToken } from '@postern/core';

export type PatternMatcher = (name: string) => boolean;

/** Never matches: the pattern needs more characters than any name can have. */
const NOTHING: PatternMatcher = () => false;

const isWild = (ch: string | undefined): boolean => ch === '*' || ch === '%';

/**
 * Code points with runs of wildcards merged ("**", "*%", "%*" are "*"; "%%" is "%"): the same
 * language, and no two adjacent wildcards left, which bounds the pattern by the name.
 */
function mergeWildcards(pattern: string): string[] {
  const out: string[] = [];
  for (const ch of pattern) {
    if (isWild(ch) && isWild(out[out.length - 1])) {
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
  const chars = mergeWildcards(pattern);
  if (chars.filter((c) => !isWild(c)).length > maxNameLength) return NOTHING;
  const tokens = chars.map((c): GlobToken =>
    c === '*' ? { kind: 'run' } : c === '%' ? { kind: 'run', except: delimiter } : { kind: 'char', ch: c },
  );
  return (name: string) => matchGlob(tokens, name);
}
