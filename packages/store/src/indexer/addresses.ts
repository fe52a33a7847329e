/**
 * Address lists of the envelope fields (From, To, Cc, …). Nearly every header holds the
 * plain forms only — `a@b`, `Name <a@b>`, `"Name" <a@b>`, comma separated — and those are
 * read here in one pass over the characters. Anything else (groups, comments, quoted local
 * parts, escapes, encoded words, domain literals, non-ASCII, stray specials) goes to
 * nodemailer's address parser, which stays the reference: for every list the fast reading
 * accepts, it gives what that parser gives (test/indexer-addresses.test.ts checks it).
 */
import addressparser from 'nodemailer/lib/addressparser';

export type ParsedAddress = { name?: string; address?: string; group?: ParsedAddress[] };

const parseFull = addressparser as unknown as (v: string) => ParsedAddress[];

/** atext (RFC 5322 §3.2.3) and ".": what the plain forms are made of. */
const ATEXT = new Uint8Array(128);
for (const c of "!#$%&'*+-/=?^_`{|}~.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  ATEXT[c.charCodeAt(0)] = 1;

const SP = 0x20;
const TAB = 0x09;
const AT = 0x40;
const LT = 0x3c;
const GT = 0x3e;
const COMMA = 0x2c;
const DQUOTE = 0x22;
const BACKSLASH = 0x5c;

const isWsp = (c: number) => c === SP || c === TAB;

/**
 * End of the addr-spec `local@domain` (atext and dots, one "@", neither side empty) that
 * starts at `i`, or -1.
 */
function addrSpecEnd(s: string, i: number, n: number): number {
  const start = i;
  let at = -1;
  for (; i < n; i++) {
    const c = s.charCodeAt(i);
    if (c === AT) {
      if (at !== -1) return -1;
      at = i;
    } else if (c >= 128 || ATEXT[c] === 0) break;
  }
  return at > start && at < i - 1 ? i : -1;
}

/** The entry as the full parser builds it: a name equal to the address is dropped. */
function entry(name: string, address: string): ParsedAddress {
  return { address, name: name === address ? '' : name };
}

/**
 * The plain forms of an address list, or undefined when the list needs the full parser.
 * Entries: `addr-spec`, `phrase <addr-spec>`, `"quoted" <addr-spec>`, `<addr-spec>`, with
 * spaces and tabs around them and "," between them.
 */
export function parseSimpleAddressList(s: string): ParsedAddress[] | undefined {
  // Encoded words are left to the full parser.
  if (s.includes('=?')) return undefined;
  const n = s.length;
  const out: ParsedAddress[] = [];
  let i = 0;
  for (;;) {
    while (i < n && isWsp(s.charCodeAt(i))) i++;
    if (i === n) break;
    const c = s.charCodeAt(i);
    let name = '';
    if (c === COMMA) {
      i++;
      continue;
    }
    if (c === DQUOTE) {
      // "quoted name" <addr-spec>: printable ASCII inside, no escapes.
      const qStart = ++i;
      for (; i < n; i++) {
        const q = s.charCodeAt(i);
        if (q === DQUOTE) break;
        if (q < SP || q > 0x7e || q === BACKSLASH) return undefined;
      }
      if (i === n) return undefined;
      let a = qStart;
      let b = i;
      while (a < b && s.charCodeAt(a) === SP) a++;
      while (b > a && s.charCodeAt(b - 1) === SP) b--;
      // An empty quoted string reads differently; so does a name that is all spaces.
      if (a === b) return undefined;
      name = s.slice(a, b);
      i++;
      while (i < n && isWsp(s.charCodeAt(i))) i++;
      if (i === n || s.charCodeAt(i) !== LT) return undefined;
    } else if (c !== LT) {
      // A phrase before "<", or an addr-spec on its own.
      const start = i;
      let last = i;
      let at = false;
      for (; i < n; i++) {
        const p = s.charCodeAt(i);
        if (p === LT || p === COMMA) break;
        if (p === AT) at = true;
        else if (isWsp(p)) continue;
        else if (p >= 128 || ATEXT[p] === 0) return undefined;
        last = i + 1;
      }
      if (i === n || s.charCodeAt(i) === COMMA) {
        if (addrSpecEnd(s, start, last) !== last) return undefined;
        out.push({ address: s.slice(start, last), name: '' });
        continue;
      }
      if (at) return undefined;
      name = s.slice(start, last);
    }
    // <addr-spec>, then the end of the entry.
    const aStart = ++i;
    const aEnd = addrSpecEnd(s, aStart, n);
    if (aEnd === -1 || aEnd === n || s.charCodeAt(aEnd) !== GT) return undefined;
    i = aEnd + 1;
    while (i < n && isWsp(s.charCodeAt(i))) i++;
    if (i < n && s.charCodeAt(i) !== COMMA) return undefined;
    out.push(entry(name, s.slice(aStart, aEnd)));
  }
  return out;
}

/** The address list of a header value, as nodemailer's address parser reads it. */
export function parseAddressList(value: string): ParsedAddress[] {
  return parseSimpleAddressList(value) ?? parseFull(value);
}
