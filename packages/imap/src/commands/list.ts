/**
 * LIST and LSUB (RFC 3501 §6.3.8, §6.3.9) with the LIST-EXTENDED selection and return options
 * clients send (RFC 5258: SUBSCRIBED, SPECIAL-USE, RECURSIVEMATCH; RETURN SUBSCRIBED,
 * CHILDREN, SPECIAL-USE) and special-use attributes (RFC 6154). Only the session user's
 * mailboxes are ever listed.
 */
import type { MailboxInfo } from '@postern/store';
import { bad } from '../errors.js';
import { astr } from '../format.js';
import { decodeMutf7 } from '../mutf7.js';
import { compileListPattern, type PatternMatcher } from '../list-pattern.js';
import { DELIMITER, MAX_NAME_LENGTH } from '../names.js';
import type { Reader } from '../parser.js';
import type { ImapSession } from '../session.js';
import type { Handler } from './table.js';

/** Name × pattern characters matched between two turns of the event loop (a few ms). */
const YIELD_EVERY = 1_000_000;

interface ListRequest {
  reference: string;
  patterns: string[];
  subscribedOnly: boolean;
  specialUseOnly: boolean;
  returnSubscribed: boolean;
  lsub: boolean;
}

function parseList(r: Reader, lsub: boolean): ListRequest {
  const req: ListRequest = {
    reference: '',
    patterns: [],
    subscribedOnly: lsub,
    specialUseOnly: false,
    returnSubscribed: false,
    lsub,
  };
  r.sp();
  if (!lsub && r.peek() === '(') {
    // RFC 5258 §3.1 list-select-opts
    for (const opt of r.list(() => r.atom().toUpperCase())) {
      if (opt === 'SUBSCRIBED') req.subscribedOnly = req.returnSubscribed = true;
      else if (opt === 'SPECIAL-USE') req.specialUseOnly = true;
      else if (opt !== 'RECURSIVEMATCH' && opt !== 'REMOTE') throw bad(`unknown selection option ${opt}`);
    }
    r.sp();
  }
  req.reference = r.astring();
  r.sp();
  req.patterns = !lsub && r.peek() === '(' ? r.list(() => r.listMailbox(), false) : [r.listMailbox()];
  if (!lsub && r.tryChar(' ')) {
    // RFC 5258 §3.2 list-return-opts
    const word = r.atom().toUpperCase();
    if (word !== 'RETURN') throw bad('RETURN expected');
    r.sp();
    r.list(() => {
      const opt = r.atom().toUpperCase();
      if (opt === 'SUBSCRIBED') req.returnSubscribed = true;
      else if (opt !== 'CHILDREN' && opt !== 'SPECIAL-USE') throw bad(`unsupported return option ${opt}`);
      return opt;
    });
  }
  r.end();
  return req;
}

function decodePattern(session: ImapSession, p: string): string {
  if (session.utf8) return p;
  return decodeMutf7(p) ?? p;
}

async function list(session: ImapSession, req: ListRequest): Promise<void> {
  const word = req.lsub ? 'LSUB' : 'LIST';
  // RFC 3501 §6.3.8: an empty pattern asks for the delimiter and the root.
  if (req.patterns.length === 1 && req.patterns[0] === '') {
    await session.write(`* ${word} (\\Noselect) "${DELIMITER}" ""\r\n`);
    return;
  }
  const boxes = await session.options.store.mail.listMailboxes(session.user);
  const byName = new Map<string, MailboxInfo>(boxes.map((b) => [b.name, b]));
  const names = new Set(byName.keys());
  // Parents implied by a deeper name (e.g. "a" for "a/b") are listed \Noselect for '%'.
  for (const name of byName.keys()) {
    const levels = name.split(DELIMITER);
    for (let i = 1; i < levels.length; i++) names.add(levels.slice(0, i).join(DELIMITER));
  }
  const matchers = req.patterns.map((p): PatternMatcher => {
    const full = decodePattern(session, req.reference + p);
    // RFC 3501 §5.1: INBOX is case-insensitive, as the first level of a pattern too.
    if (/^inbox$/i.test(full)) return (name) => name === 'INBOX';
    return compileListPattern(full.replace(/^inbox(?=\/|$)/i, 'INBOX'), DELIMITER, MAX_NAME_LENGTH);
  });
  const parents = new Set<string>();
  for (const name of names) {
    const cut = name.lastIndexOf(DELIMITER);
    if (cut > 0) parents.add(name.slice(0, cut));
  }
  const patternChars = req.patterns.reduce((n, p) => n + p.length + 1, req.reference.length);
  const lines: string[] = [];
  let work = 0;
  for (const name of [...names].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : 1))) {
    // Matching is bounded (list-pattern.ts) but a long pattern list over many long names
    // still adds up: let other connections in now and then.
    work += name.length * patternChars;
    if (work > YIELD_EVERY) {
      work = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
    if (!matchers.some((match) => match(name))) continue;
    const info = byName.get(name);
    if (!info && !req.patterns.some((p) => p.includes('%'))) continue;
    if (req.subscribedOnly && !info?.subscribed) continue;
    if (req.specialUseOnly && !info?.specialUse) continue;
    const attrs: string[] = [];
    if (!info) attrs.push('\\Noselect');
    const hasChildren = parents.has(name);
    attrs.push(hasChildren ? '\\HasChildren' : '\\HasNoChildren');
    if (info?.specialUse) attrs.push(info.specialUse);
    if (req.returnSubscribed && info?.subscribed) attrs.push('\\Subscribed');
    lines.push(`* ${word} (${attrs.join(' ')}) "${DELIMITER}" ${astr(session.encodeName(name))}\r\n`);
  }
  if (lines.length) await session.write(lines);
}

export const LIST_COMMANDS: Record<string, Handler> = {
  async LIST({ session }, r) {
    await list(session, parseList(r, false));
    return undefined;
  },
  async LSUB({ session }, r) {
    await list(session, parseList(r, true));
    return undefined;
  },
};
