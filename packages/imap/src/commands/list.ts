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
import { DELIMITER, patternToRegExp } from '../names.js';
import type { Reader } from '../parser.js';
import type { ImapSession } from '../session.js';
import type { Handler } from './table.js';

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
  const regexps = req.patterns.map((p) => {
    const full = decodePattern(session, req.reference + p);
    return /^inbox$/i.test(full) ? /^INBOX$/ : patternToRegExp(full.replace(/^inbox(?=\/|$)/i, 'INBOX'));
  });
  const lines: string[] = [];
  for (const name of [...names].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : 1))) {
    if (!regexps.some((re) => re.test(name))) continue;
    const info = byName.get(name);
    if (!info && !req.patterns.some((p) => p.includes('%'))) continue;
    if (req.subscribedOnly && !info?.subscribed) continue;
    if (req.specialUseOnly && !info?.specialUse) continue;
    const attrs: string[] = [];
    if (!info) attrs.push('\\Noselect');
    const hasChildren = [...names].some((n) => n.startsWith(name + DELIMITER));
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
