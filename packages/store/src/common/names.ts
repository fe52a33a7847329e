/**
 * Names a client chooses — user addresses, mailbox, group and domain names, Message-IDs —
 * checked and brought to one canonical form, the same for every backend. DESIGN.md: such
 * names never become paths or keys as they are; `encodeNameForPath` is the one safe way.
 */
import { createHash } from 'node:crypto';
import { StoreError } from '../types.js';

/** C0 controls, DEL and C1 controls: never part of a name (NUL, CR, LF, ESC…). */
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;
/** A lone UTF-16 surrogate cannot be written as UTF-8: two names would collide on U+FFFD. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** IMAP hierarchy delimiter (RFC 3501 §6.3.8 LIST answers it). */
export const MAILBOX_DELIMITER = '/';
export const MAX_MAILBOX_NAME = 512;

function invalid(what: string): never {
  throw new StoreError('INVALID_NAME', `invalid ${what}`);
}

export function hasUnsafeChars(name: string): boolean {
  return CONTROL.test(name) || LONE_SURROGATE.test(name);
}

/** Lower case, no trailing dot; anything that is not a plain domain name is refused. */
export function normalizeDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/\.$/, '');
  if (!d || d.length > 253 || /[\s/\\@]/.test(d) || hasUnsafeChars(d)) invalid('domain');
  return d;
}

/**
 * The canonical user: trimmed, lower case. Local parts are case-sensitive in RFC 5321 §2.4,
 * but every mail system in use treats them case-insensitively, and so do we.
 */
export function canonicalUser(address: string): string {
  return address.trim().toLowerCase();
}

/** local@domain, no spaces or controls, at most 254 octets (RFC 5321 §4.5.3.1.3 path limit). */
export function validateUser(address: string): void {
  if (!/^[^\s@]+@[^\s@]+$/.test(address) || hasUnsafeChars(address) || Buffer.byteLength(address) > 254)
    invalid('address');
}

/** INBOX is case-insensitive (RFC 3501 §5.1); every other name is kept as given. */
export function canonicalMailbox(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

/**
 * A mailbox name a client may create: not empty, no controls, no empty hierarchy level
 * (leading, trailing or doubled delimiter), and no `.` or `..` level, which would read as a
 * path walk to anything that splits on the delimiter.
 */
export function validateMailbox(name: string): void {
  if (!name || name.length > MAX_MAILBOX_NAME || hasUnsafeChars(name)) invalid('mailbox name');
  for (const level of name.split(MAILBOX_DELIMITER))
    if (level === '' || level === '.' || level === '..') invalid('mailbox name');
}

/** RFC 3977 §4.1 / RFC 5536 §3.1.4: dot-separated components of letters, digits, + _ -. */
export function validateGroup(name: string): void {
  if (name.length > 255 || !/^[A-Za-z0-9+_-]+(\.[A-Za-z0-9+_-]+)*$/.test(name)) invalid('group name');
}

/** RFC 5536 §3.1.3: `<…>`, no spaces or controls, at most 250 octets. */
export function validateMessageId(id: string): void {
  if (!/^<[^<>\s]+>$/.test(id) || Buffer.byteLength(id) > 250 || hasUnsafeChars(id)) invalid('Message-ID');
}

/**
 * Any name as one safe path segment (or key part): only [a-z0-9_@+-] and non-leading dots
 * stay; every other UTF-8 byte, upper case included (case-insensitive file systems), becomes
 * %XX. The result can never be '', '.', '..', contain '/', '\\', NUL or a control character,
 * and distinct names give distinct results. Over-long names are cut and suffixed by a hash.
 */
export function encodeNameForPath(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const plain =
      (byte >= 0x61 && byte <= 0x7a) ||
      (byte >= 0x30 && byte <= 0x39) ||
      byte === 0x5f ||
      byte === 0x40 ||
      byte === 0x2b ||
      byte === 0x2d ||
      (byte === 0x2e && out.length > 0);
    out += plain ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  // '~' never comes out of a non-empty name, so the empty name cannot collide.
  if (out === '') return '~';
  if (out.length > 180)
    out = `${out.slice(0, 120)}~${createHash('sha256').update(name, 'utf8').digest('hex').slice(0, 40)}`;
  return out;
}

/** Decodes what `encodeNameForPath` produced (not for hashed, over-long names). */
export function decodeNameFromPath(segment: string): string {
  if (segment === '~') return '';
  return Buffer.from(
    segment.replace(/%([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
    'latin1',
  ).toString('utf8');
}
