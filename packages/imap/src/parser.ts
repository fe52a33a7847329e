/**
 * A reader over one assembled command (see command-reader.ts) following RFC 3501 §9's formal
 * syntax: atoms, quoted strings, literals (the '\0' placeholders), astrings, nstrings,
 * parenthesized lists, numbers. Every syntax error is a BAD (RFC 3501 §7.1.5).
 */
import { bad } from './errors.js';
import { canonicalFlag } from './flags.js';
import type { RawCommand } from './command-reader.js';

/** RFC 3501 §9: atom-specials = "(" / ")" / "{" / SP / CTL / list-wildcards / quoted-specials / resp-specials. */
const ATOM_SPECIAL = new Set(['(', ')', '{', ' ', '%', '*', '"', '\\', ']', '\0']);

export class Reader {
  private pos = 0;
  private literalIndex = 0;

  constructor(
    readonly text: string,
    private readonly literals: Buffer[] = [],
  ) {}

  static of(cmd: RawCommand, start: number): Reader {
    const r = new Reader(cmd.text, cmd.literals);
    r.pos = start;
    return r;
  }

  get position(): number {
    return this.pos;
  }

  /** Go back to a position returned by `position` (bounded look-ahead). */
  seek(pos: number): void {
    this.pos = pos;
  }

  atEnd(): boolean {
    return this.pos >= this.text.length;
  }

  peek(): string {
    return this.text[this.pos] ?? '';
  }

  /** Case-insensitive look-ahead for a word. */
  peekWord(word: string): boolean {
    return this.text.slice(this.pos, this.pos + word.length).toUpperCase() === word.toUpperCase();
  }

  expect(ch: string): void {
    if (this.text[this.pos] !== ch) throw bad(`expected '${ch}' at ${this.pos}`);
    this.pos++;
  }

  tryChar(ch: string): boolean {
    if (this.text[this.pos] === ch) {
      this.pos++;
      return true;
    }
    return false;
  }

  sp(): void {
    this.expect(' ');
  }

  end(): void {
    if (!this.atEnd()) throw bad('unexpected characters at end of command');
  }

  private isAtomChar(ch: string, extra = ''): boolean {
    const c = ch.charCodeAt(0);
    if (c < 0x21 || c === 0x7f) return false;
    if (extra.includes(ch)) return true;
    return !ATOM_SPECIAL.has(ch);
  }

  /** atom; `extra` admits otherwise special characters (e.g. ']' for ASTRING-CHAR, '%*' for list-mailbox). */
  atom(extra = ''): string {
    const start = this.pos;
    while (this.pos < this.text.length && this.isAtomChar(this.text[this.pos], extra)) this.pos++;
    if (this.pos === start) throw bad(`atom expected at ${start}`);
    return this.text.slice(start, this.pos);
  }

  /** A keyword made of letters, digits, '.', '-' and '+' (FETCH item names, STORE items). */
  word(): string {
    const start = this.pos;
    while (/[A-Za-z0-9.+-]/.test(this.text[this.pos] ?? '')) this.pos++;
    if (this.pos === start) throw bad(`keyword expected at ${start}`);
    return this.text.slice(start, this.pos);
  }

  /** sequence-set characters (RFC 3501 §9): digits, '*', ':' and ','. */
  sequenceText(): string {
    const start = this.pos;
    while (/[0-9*:,]/.test(this.text[this.pos] ?? '')) this.pos++;
    if (this.pos === start) throw bad(`sequence set expected at ${start}`);
    return this.text.slice(start, this.pos);
  }

  /** number = 1*DIGIT (32-bit). */
  number(): number {
    const start = this.pos;
    while (/[0-9]/.test(this.text[this.pos] ?? '')) this.pos++;
    if (start === this.pos || this.pos - start > 10) throw bad('number expected');
    return Number(this.text.slice(start, this.pos));
  }

  nzNumber(): number {
    const n = this.number();
    if (n === 0) throw bad('non-zero number expected');
    return n;
  }

  /** 64-bit numbers (CONDSTORE mod-sequence values). */
  bigNumber(): number {
    const start = this.pos;
    while (/[0-9]/.test(this.text[this.pos] ?? '')) this.pos++;
    if (start === this.pos || this.pos - start > 19) throw bad('number expected');
    const n = Number(this.text.slice(start, this.pos));
    if (!Number.isSafeInteger(n)) throw bad('number too large');
    return n;
  }

  private quoted(): string {
    this.expect('"');
    let out = '';
    for (;;) {
      const ch = this.text[this.pos++];
      if (ch === undefined) throw bad('unterminated quoted string');
      if (ch === '"') return out;
      if (ch === '\\') {
        const next = this.text[this.pos++];
        if (next !== '"' && next !== '\\') throw bad('invalid escape in quoted string');
        out += next;
      } else if (ch === '\0') {
        throw bad('literal inside quoted string');
      } else {
        out += ch;
      }
    }
  }

  private literal(): Buffer {
    this.expect('\0');
    const lit = this.literals[this.literalIndex++];
    if (!lit) throw bad('literal expected');
    return lit;
  }

  isString(): boolean {
    return this.peek() === '"' || this.peek() === '\0';
  }

  /** string = quoted / literal, as bytes. */
  stringBytes(): Buffer {
    if (this.peek() === '\0') return this.literal();
    return Buffer.from(this.quoted(), 'utf8');
  }

  string(): string {
    if (this.peek() === '\0') return this.literal().toString('utf8');
    return this.quoted();
  }

  /** astring = 1*ASTRING-CHAR / string. */
  astring(): string {
    if (this.isString()) return this.string();
    return this.atom(']');
  }

  /** nstring = string / NIL */
  nstring(): string | null {
    if (this.isString()) return this.string();
    const a = this.atom();
    if (a.toUpperCase() !== 'NIL') throw bad('string or NIL expected');
    return null;
  }

  /** list-mailbox = 1*list-char / string (list-char adds '%', '*' and ']'). */
  listMailbox(): string {
    if (this.isString()) return this.string();
    return this.atom('%*]');
  }

  /** "(" item *(SP item) ")"; `allowEmpty` for lists such as flag-list. */
  list<T>(item: () => T, allowEmpty = true): T[] {
    this.expect('(');
    const out: T[] = [];
    if (this.tryChar(')')) {
      if (!allowEmpty) throw bad('empty list');
      return out;
    }
    for (;;) {
      out.push(item());
      if (this.tryChar(')')) return out;
      this.sp();
    }
  }

  /** flag = "\Answered" / … / keyword / flag-extension (RFC 3501 §9). */
  /**
   * flag (RFC 3501 §9). Flags are case-insensitive (§2.3.2): a system flag is returned in its
   * canonical spelling, so `\seen` from a client is stored, counted and shown as `\Seen`.
   */
  flag(): string {
    if (this.tryChar('\\')) {
      return canonicalFlag(`\\${this.atom()}`);
    }
    return this.atom();
  }

  /** The remaining text (for SASL initial responses and the like). */
  rest(): string {
    const s = this.text.slice(this.pos);
    this.pos = this.text.length;
    return s;
  }
}
