/**
 * SEARCH (RFC 3501 §6.4.4): every search key, parsed into a tree and evaluated per message
 * from its metadata and, only when a key needs it, its index (headers and decoded text).
 * CHARSET: US-ASCII and UTF-8 (RFC 9051 §6.4.4 makes UTF-8 mandatory).
 */
import { decodeWords, type MessageIndex } from '@postern/store';
import { bad, no } from './errors.js';
import { parseSearchDate } from './format.js';
import type { Reader } from './parser.js';
import { inSet, parseSequenceText, type SequenceSet } from './sequence.js';

export type SearchKey =
  | { op: 'all' }
  | { op: 'flag'; flag: string; set: boolean }
  | { op: 'new' }
  | { op: 'old' }
  | { op: 'header'; name: string; value: string }
  | { op: 'body' | 'text'; value: string }
  | { op: 'date'; which: 'internal' | 'sent'; cmp: 'before' | 'on' | 'since'; date: Date }
  | { op: 'size'; cmp: 'larger' | 'smaller'; n: number }
  | { op: 'seq'; set: SequenceSet; uid: boolean }
  | { op: 'modseq'; n: number }
  | { op: 'not'; key: SearchKey }
  | { op: 'or'; a: SearchKey; b: SearchKey }
  | { op: 'and'; keys: SearchKey[] };

const FLAG_KEYS: Record<string, [string, boolean]> = {
  ANSWERED: ['\\Answered', true],
  DELETED: ['\\Deleted', true],
  DRAFT: ['\\Draft', true],
  FLAGGED: ['\\Flagged', true],
  SEEN: ['\\Seen', true],
  RECENT: ['\\Recent', true],
  UNANSWERED: ['\\Answered', false],
  UNDELETED: ['\\Deleted', false],
  UNDRAFT: ['\\Draft', false],
  UNFLAGGED: ['\\Flagged', false],
  UNSEEN: ['\\Seen', false],
};

const HEADER_KEYS: Record<string, string> = {
  BCC: 'bcc',
  CC: 'cc',
  FROM: 'from',
  SUBJECT: 'subject',
  TO: 'to',
};

function date(r: Reader): Date {
  const text = r.isString() ? r.string() : r.atom();
  const d = parseSearchDate(text);
  if (!d) throw bad('invalid date');
  return d;
}

/**
 * Nesting of parentheses, NOT and OR a search may have. The grammar (RFC 3501 §9 search-key)
 * has no bound, but the parser and the evaluator recurse once per level: thousands of levels
 * would overflow the stack, so past this many the command is refused as BAD.
 */
export const MAX_SEARCH_DEPTH = 100;

function key(r: Reader, depth: number): SearchKey {
  if (depth > MAX_SEARCH_DEPTH) throw bad(`search keys nested deeper than ${MAX_SEARCH_DEPTH}`);
  const inner = () => key(r, depth + 1);
  if (r.peek() === '(') return { op: 'and', keys: r.list(inner, false) };
  if (/[0-9*]/.test(r.peek())) return { op: 'seq', set: parseSequenceText(r.sequenceText()), uid: false };
  const word = r.atom().toUpperCase();
  if (word === 'ALL') return { op: 'all' };
  if (FLAG_KEYS[word]) return { op: 'flag', flag: FLAG_KEYS[word][0], set: FLAG_KEYS[word][1] };
  if (word === 'NEW') return { op: 'new' };
  if (word === 'OLD') return { op: 'old' };
  r.sp();
  if (HEADER_KEYS[word]) return { op: 'header', name: HEADER_KEYS[word], value: r.astring() };
  switch (word) {
    case 'KEYWORD':
    case 'UNKEYWORD':
      return { op: 'flag', flag: r.atom(), set: word === 'KEYWORD' };
    case 'BODY':
    case 'TEXT':
      return { op: word === 'BODY' ? 'body' : 'text', value: r.astring() };
    case 'HEADER': {
      const name = r.astring();
      r.sp();
      return { op: 'header', name: name.toLowerCase(), value: r.astring() };
    }
    case 'BEFORE':
    case 'ON':
    case 'SINCE':
      return { op: 'date', which: 'internal', cmp: word.toLowerCase() as 'before', date: date(r) };
    case 'SENTBEFORE':
    case 'SENTON':
    case 'SENTSINCE':
      return { op: 'date', which: 'sent', cmp: word.slice(4).toLowerCase() as 'before', date: date(r) };
    case 'LARGER':
    case 'SMALLER':
      return { op: 'size', cmp: word.toLowerCase() as 'larger', n: r.number() };
    case 'UID':
      return { op: 'seq', set: parseSequenceText(r.sequenceText()), uid: true };
    case 'NOT':
      return { op: 'not', key: inner() };
    case 'OR': {
      const a = inner();
      r.sp();
      return { op: 'or', a, b: inner() };
    }
    case 'MODSEQ': {
      // RFC 7162 §3.1.5: MODSEQ [entry-name entry-type-req] mod-sequence-valzer
      if (r.isString()) {
        r.string();
        r.sp();
        r.atom();
        r.sp();
      }
      return { op: 'modseq', n: r.bigNumber() };
    }
  }
  throw bad(`unknown search key ${word}`);
}

export interface SearchRequest {
  key: SearchKey;
  /** ESEARCH return options (RFC 4731), undefined for a plain SEARCH. */
  returns?: string[];
}

/** [RETURN (...)] [CHARSET x] key *(SP key) */
export function parseSearch(r: Reader): SearchRequest {
  let returns: string[] | undefined;
  if (r.peekWord('RETURN ')) {
    r.atom();
    r.sp();
    returns = r.list(() => r.atom().toUpperCase());
    if (returns.length === 0) returns = ['ALL'];
    r.sp();
  }
  if (r.peekWord('CHARSET ')) {
    r.atom();
    r.sp();
    const charset = r.astring().toUpperCase();
    if (charset !== 'UTF-8' && charset !== 'US-ASCII')
      throw no('unsupported charset', 'BADCHARSET (UTF-8 US-ASCII)');
    r.sp();
  }
  const keys = [key(r, 1)];
  while (r.tryChar(' ')) keys.push(key(r, 1));
  r.end();
  return { key: keys.length === 1 ? keys[0] : { op: 'and', keys }, returns };
}

export function needsIndex(k: SearchKey): boolean {
  switch (k.op) {
    case 'header':
    case 'body':
    case 'text':
      return true;
    case 'date':
      return k.which === 'sent';
    case 'not':
      return needsIndex(k.key);
    case 'or':
      return needsIndex(k.a) || needsIndex(k.b);
    case 'and':
      return k.keys.some(needsIndex);
    default:
      return false;
  }
}

export interface Candidate {
  seq: number;
  uid: number;
  flags: string[];
  size: number;
  internalDate: Date;
  modseq: number;
  index?: MessageIndex;
}

export interface Bounds {
  maxSeq: number;
  maxUid: number;
}

const dayOf = (d: Date) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
const contains = (hay: string, needle: string) => hay.toLowerCase().includes(needle.toLowerCase());

function headerValues(index: MessageIndex | undefined, name: string): string[] {
  return (index?.headers ?? []).filter(([n]) => n.toLowerCase() === name).map(([, v]) => v);
}

/**
 * RFC 3501 §6.4.4: header keys match the field's text; a client searching for "Zürich" means
 * the text a reader sees, so RFC 2047 encoded words are decoded first (as Dovecot and
 * imaptest's search tests expect). Values without "=?" are returned as they are.
 */
const decoded = (v: string) => (v.includes('=?') ? decodeWords(v) : v);

const ADDRESS_FIELDS = new Set(['from', 'to', 'cc', 'bcc', 'sender', 'reply-to']);

/**
 * An address field without its comments (RFC 5322 §3.2.2 CFWS) and the whitespace around
 * "@" and "." they leave, so `<user (c)@ (c) domain.org>` matches `user@domain.org`.
 * Quoted strings are kept whole: a "(" inside one opens no comment.
 */
function withoutComments(v: string): string {
  let out = '';
  let depth = 0;
  let quoted = false;
  for (let i = 0; i < v.length; i++) {
    const c = v[i]!;
    if (c === '\\' && (quoted || depth > 0)) {
      if (depth === 0) out += c + (v[i + 1] ?? '');
      i++;
    } else if (quoted) {
      out += c;
      if (c === '"') quoted = false;
    } else if (c === '(') depth++;
    else if (c === ')' && depth > 0) depth--;
    else if (depth === 0) {
      out += c;
      if (c === '"') quoted = true;
    }
  }
  return out
    .replace(/\s*([@.])\s*/g, '$1')
    .replace(/\s+/g, ' ')
    .trim();
}

/** What a header key compares with: the decoded value and, for an address field, its bare form. */
function searchableValues(index: MessageIndex | undefined, name: string): string[] {
  const values = headerValues(index, name).map(decoded);
  if (!ADDRESS_FIELDS.has(name)) return values;
  return values.flatMap((v) => (v.includes('(') ? [v, withoutComments(v)] : [v]));
}

const MONTH_INDEX: Record<string, number> = {
  jan: 0,
  feb: 1,
  mar: 2,
  apr: 3,
  may: 4,
  jun: 5,
  jul: 6,
  aug: 7,
  sep: 8,
  oct: 9,
  nov: 10,
  dec: 11,
};

/**
 * The day a Date: field names as written, zone ignored (RFC 3501 §6.4.4 SENTON: "the date of
 * the [RFC-2822] Date: header (disregarding time and timezone)"), as a UTC midnight; undefined
 * when there is no date-time in it (RFC 5322 §3.3, obsolete 2- and 3-digit years per §4.3).
 */
export function sentDay(raw: string): number | undefined {
  const m = /^\s*(?:[A-Za-z]+\s*,)?\s*(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\s+(\d{2,4})\b/.exec(raw);
  if (!m) return undefined;
  const month = MONTH_INDEX[m[2]!.toLowerCase()];
  if (month === undefined) return undefined;
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 50 ? 2000 : 1900;
  else if (m[3]!.length === 3) year += 1900;
  return Date.UTC(year, month, Number(m[1]));
}

function compareDate(cmp: 'before' | 'on' | 'since', day: number, want: Date): boolean {
  const w = want.getTime();
  return cmp === 'before' ? day < w : cmp === 'on' ? day === w : day >= w;
}

export function matches(k: SearchKey, m: Candidate, b: Bounds): boolean {
  switch (k.op) {
    case 'all':
      return true;
    case 'flag': {
      const has = m.flags.some((f) => f.toLowerCase() === k.flag.toLowerCase());
      return has === k.set;
    }
    case 'new':
      return m.flags.includes('\\Recent') && !m.flags.includes('\\Seen');
    case 'old':
      return !m.flags.includes('\\Recent');
    case 'header': {
      const values = searchableValues(m.index, k.name);
      // RFC 3501 §6.4.4 HEADER: an empty string matches every message with the field.
      return k.value === '' ? values.length > 0 : values.some((v) => contains(v, k.value));
    }
    case 'body':
      return contains(m.index?.text ?? '', k.value);
    case 'text':
      return (
        contains(m.index?.text ?? '', k.value) ||
        (m.index?.headers ?? []).some(([n, v]) => contains(`${n}: ${decoded(v)}`, k.value))
      );
    case 'date': {
      if (k.which === 'sent') {
        // A missing or unreadable Date: falls back on the internal date, as before.
        const raw = headerValues(m.index, 'date')[0];
        const day = raw === undefined ? undefined : sentDay(raw);
        if (day !== undefined) return compareDate(k.cmp, day, k.date);
      }
      return compareDate(k.cmp, dayOf(m.internalDate), k.date);
    }
    case 'size':
      return k.cmp === 'larger' ? m.size > k.n : m.size < k.n;
    case 'seq':
      return k.uid ? inSet(k.set, m.uid, b.maxUid) : inSet(k.set, m.seq, b.maxSeq);
    case 'modseq':
      return m.modseq >= k.n;
    case 'not':
      return !matches(k.key, m, b);
    case 'or':
      return matches(k.a, m, b) || matches(k.b, m, b);
    case 'and':
      return k.keys.every((x) => matches(x, m, b));
  }
}

export function usesModseq(k: SearchKey): boolean {
  if (k.op === 'modseq') return true;
  if (k.op === 'not') return usesModseq(k.key);
  if (k.op === 'or') return usesModseq(k.a) || usesModseq(k.b);
  if (k.op === 'and') return k.keys.some(usesModseq);
  return false;
}
