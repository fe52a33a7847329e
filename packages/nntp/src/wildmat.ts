/**
 * Wildmats (RFC 3977 §4): comma-separated patterns, each optionally negated with "!", where
 * "*" matches any run of characters and "?" exactly one (a UTF-8 character, not an octet).
 * The last pattern that matches decides (§4.2). RFC 3977 §4.1 has no brackets and no
 * backslash escapes (older wildmats did), so those are refused.
 *
 * A wildmat comes from the client (anonymous ones too, in LIST ACTIVE), so it is never turned
 * into a RegExp: core's matchGlob runs each pattern in O(name × pattern).
 */
import { matchGlob, type GlobToken } from '@postern/core';

/** RFC 3977 §4.1: characters a wildmat may not contain outside their special meaning. */
const FORBIDDEN = /[\\[\]\x00-\x20\x7f]/;

/** One pattern as glob tokens, runs of "*" merged (the same language, fewer states). */
function tokenize(pattern: string): GlobToken[] {
  const out: GlobToken[] = [];
  for (const ch of pattern) {
    if (ch === '*') {
      if (out[out.length - 1]?.kind !== 'run') out.push({ kind: 'run' });
    } else out.push(ch === '?' ? { kind: 'one' } : { kind: 'char', ch });
  }
  return out;
}

/** A matcher, or undefined when the wildmat is malformed (the caller answers 501). */
export function compileWildmat(wildmat: string): ((name: string) => boolean) | undefined {
  if (wildmat === '' || FORBIDDEN.test(wildmat)) return undefined;
  const items: Array<{ negated: boolean; tokens: GlobToken[] }> = [];
  for (const part of wildmat.split(',')) {
    const negated = part.startsWith('!');
    const pattern = negated ? part.slice(1) : part;
    if (pattern === '' || pattern.includes('!')) return undefined;
    items.push({ negated, tokens: tokenize(pattern) });
  }
  return (name: string) => {
    for (let i = items.length - 1; i >= 0; i--) {
      if (matchGlob(items[i].tokens, name)) return !items[i].negated;
    }
    return false;
  };
}
