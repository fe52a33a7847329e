/**
 * Wildmats (RFC 3977 §4): comma-separated patterns, each optionally negated with "!", where
 * "*" matches any run of characters and "?" exactly one (a UTF-8 character, not an octet).
 * The last pattern that matches decides (§4.2).
 */

/** RFC 3977 §4.1: characters a wildmat may not contain outside their special meaning. */
const FORBIDDEN = /[\\[\]\x00-\x20\x7f]/;

function toRegExp(pattern: string): RegExp {
  let source = '';
  for (const ch of pattern) {
    if (ch === '*') source += '.*';
    else if (ch === '?') source += '.';
    else source += ch.replace(/[.+^${}()|]/g, '\\$&');
  }
  return new RegExp(`^${source}$`, 'su');
}

/** A matcher, or undefined when the wildmat is malformed (the caller answers 501). */
export function compileWildmat(wildmat: string): ((name: string) => boolean) | undefined {
  if (wildmat === '' || FORBIDDEN.test(wildmat)) return undefined;
  const items: Array<{ negated: boolean; re: RegExp }> = [];
  for (const part of wildmat.split(',')) {
    const negated = part.startsWith('!');
    const pattern = negated ? part.slice(1) : part;
    if (pattern === '' || pattern.includes('!')) return undefined;
    items.push({ negated, re: toRegExp(pattern) });
  }
  return (name: string) => {
    for (let i = items.length - 1; i >= 0; i--) {
      if (items[i].re.test(name)) return !items[i].negated;
    }
    return false;
  };
}
