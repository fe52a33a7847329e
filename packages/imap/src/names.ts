/**
 * Mailbox names between the wire and the store: modified UTF-7 (RFC 3501 §5.1.3) unless
 * UTF8=ACCEPT is enabled (RFC 6855 §3), INBOX case-insensitive (RFC 3501 §5.1), and names
 * that could walk anywhere ('..', empty levels, control characters, NUL) refused.
 */
import { no } from './errors.js';
import { decodeMutf7, encodeMutf7 } from './mutf7.js';

export const DELIMITER = '/';
/** Longest mailbox name, in UTF-16 code units (so at most as many code points). */
export const MAX_NAME_LENGTH = 512;

export function canonicalName(name: string): string {
  const first = name.split(DELIMITER)[0];
  if (first.toUpperCase() === 'INBOX') return ['INBOX', ...name.split(DELIMITER).slice(1)].join(DELIMITER);
  return name;
}

/**
 * Wire name → store name; NO [CANNOT] for undecodable or unsafe names. Any astring is valid
 * syntax for a mailbox (RFC 3501 §9), so a name like `&'+` that is not modified UTF-7 is a
 * name no mailbox can have: NO, not BAD, and never counted toward the BAD limit.
 */
export function decodeName(wire: string, utf8: boolean): string {
  const name = utf8 ? wire : decodeMutf7(wire);
  if (name === undefined) throw no('mailbox name is not valid modified UTF-7', 'CANNOT');
  if (name.length === 0 || name.length > MAX_NAME_LENGTH) throw no('invalid mailbox name', 'CANNOT');
  if (/[\x00-\x1f\x7f]/.test(name)) throw no('mailbox name contains control characters', 'CANNOT');
  const levels = name.split(DELIMITER);
  if (levels.some((l) => l === '' || l === '.' || l === '..')) throw no('invalid mailbox name', 'CANNOT');
  return canonicalName(name);
}

export function encodeName(name: string, utf8: boolean): string {
  return utf8 ? name : encodeMutf7(name);
}
