/**
 * FETCH data items (RFC 3501 §6.4.5, §9 fetch-att) and the CONDSTORE modifiers
 * (RFC 7162 §3.1.4): parsed into a list the renderer walks.
 */
import { bad } from './errors.js';
import type { Reader } from './parser.js';

export interface Section {
  /** Part numbers, [] for the whole message. */
  part: number[];
  /** '' (the part's body), HEADER, HEADER.FIELDS, HEADER.FIELDS.NOT, TEXT, MIME. */
  text: '' | 'HEADER' | 'HEADER.FIELDS' | 'HEADER.FIELDS.NOT' | 'TEXT' | 'MIME';
  fields: string[];
}

export type FetchItem =
  | {
      kind:
        'FLAGS' | 'INTERNALDATE' | 'RFC822.SIZE' | 'ENVELOPE' | 'BODY' | 'BODYSTRUCTURE' | 'UID' | 'MODSEQ';
    }
  | { kind: 'RFC822' | 'RFC822.HEADER' | 'RFC822.TEXT' }
  | { kind: 'section'; peek: boolean; section: Section; partial?: { origin: number; length: number } }
  | { kind: 'binary'; peek: boolean; part: number[]; partial?: { origin: number; length: number } }
  | { kind: 'binarySize'; part: number[] };

export interface FetchRequest {
  items: FetchItem[];
  changedSince?: number;
}

const SIMPLE = new Set([
  'FLAGS',
  'INTERNALDATE',
  'RFC822.SIZE',
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'UID',
  'MODSEQ',
  'RFC822',
  'RFC822.HEADER',
  'RFC822.TEXT',
]);

function parseSection(r: Reader): Section {
  r.expect('[');
  const part: number[] = [];
  let text: Section['text'] = '';
  let fields: string[] = [];
  while (/[0-9]/.test(r.peek())) {
    part.push(r.nzNumber());
    if (!r.tryChar('.')) break;
  }
  if (r.peek() !== ']') {
    const word = r.atom().toUpperCase();
    if (word === 'HEADER' || word === 'TEXT') text = word;
    else if (word === 'MIME' && part.length > 0) text = 'MIME';
    else if (word === 'HEADER.FIELDS' || word === 'HEADER.FIELDS.NOT') {
      text = word;
      r.sp();
      fields = r.list(() => r.astring(), false).map((f) => f.toUpperCase());
    } else throw bad(`invalid section ${word}`);
  } else if (part.length > 0 && r.text[r.position - 1] === '.') {
    throw bad('invalid section');
  }
  r.expect(']');
  return { part, text, fields };
}

/** section-binary = "[" [section-part] "]" (RFC 3516 §4.1) */
function parseBinarySection(r: Reader): number[] {
  r.expect('[');
  const part: number[] = [];
  if (r.peek() !== ']') {
    part.push(r.nzNumber());
    while (r.tryChar('.')) part.push(r.nzNumber());
  }
  r.expect(']');
  return part;
}

function parsePartial(r: Reader): { origin: number; length: number } | undefined {
  if (!r.tryChar('<')) return undefined;
  const origin = r.number();
  r.expect('.');
  const length = r.nzNumber();
  r.expect('>');
  return { origin, length };
}

function parseItem(r: Reader): FetchItem {
  const word = r.word().toUpperCase();
  if ((word === 'BINARY' || word === 'BINARY.PEEK') && r.peek() === '[') {
    const part = parseBinarySection(r);
    return { kind: 'binary', peek: word === 'BINARY.PEEK', part, partial: parsePartial(r) };
  }
  if (word === 'BINARY.SIZE' && r.peek() === '[') return { kind: 'binarySize', part: parseBinarySection(r) };
  if ((word === 'BODY' || word === 'BODY.PEEK') && r.peek() === '[') {
    const section = parseSection(r);
    const partial = parsePartial(r);
    return { kind: 'section', peek: word === 'BODY.PEEK', section, partial };
  }
  if (SIMPLE.has(word)) return { kind: word } as FetchItem;
  throw bad(`unknown fetch item ${word}`);
}

/** fetch-att list or macro, then optional modifiers "(CHANGEDSINCE n)". */
export function parseFetchRequest(r: Reader): FetchRequest {
  let items: FetchItem[];
  if (r.peek() === '(') {
    items = r.list(() => parseItem(r), false);
  } else {
    const save = r.position;
    const word = r.atom('.[]<>').toUpperCase();
    const macros: Record<string, string[]> = {
      ALL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE'],
      FAST: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE'],
      FULL: ['FLAGS', 'INTERNALDATE', 'RFC822.SIZE', 'ENVELOPE', 'BODY'],
    };
    if (macros[word]) items = macros[word].map((k) => ({ kind: k }) as FetchItem);
    else {
      r.seek(save);
      items = [parseItem(r)];
    }
  }
  let changedSince: number | undefined;
  if (r.tryChar(' ')) {
    r.list(() => {
      const mod = r.atom().toUpperCase();
      if (mod === 'CHANGEDSINCE') {
        r.sp();
        changedSince = r.bigNumber();
      } else throw bad(`unknown fetch modifier ${mod}`);
    }, false);
  }
  return { items, changedSince };
}

/** The item name as the response shows it (RFC 3501 §7.4.2 BODY[<section>]<<origin octet>>). */
export function sectionName(section: Section, origin?: number): string {
  let spec = section.part.join('.');
  if (section.text) spec += (spec ? '.' : '') + section.text;
  if (section.text === 'HEADER.FIELDS' || section.text === 'HEADER.FIELDS.NOT')
    spec += ` (${section.fields.join(' ')})`;
  return `BODY[${spec}]${origin !== undefined ? `<${origin}>` : ''}`;
}
