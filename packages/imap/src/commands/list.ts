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
  /** RFC 5258 §3: also list parents whose descendants are selected but not listed. */
  recursiveMatch: boolean;
  returnSubscribed: boolean;
  lsub: boolean;
}

function parseList(r: Reader, lsub: boolean): ListRequest {
  const req: ListRequest = {
    reference: '',
    patterns: [],
    subscribedOnly: lsub,
    specialUseOnly: false,
    recursiveMatch: false,
    returnSubscribed: false,
    lsub,
  };
  r.sp();
  if (!lsub && r.peek() === '(') {
    // RFC 5258 §3.1 list-select-opts
    for (const opt of r.list(() => r.atom().toUpperCase())) {
      if (opt === 'SUBSCRIBED') req.subscribedOnly = req.returnSubscribed = true;
      else if (opt === 'SPECIAL-USE') req.specialUseOnly = true;
      else if (opt === 'RECURSIVEMATCH') req.recursiveMatch = true;
      else if (opt !== 'REMOTE') throw bad(`unknown selection option ${opt}`);
    }
    // RFC 5258 §3: RECURSIVEMATCH alone (or with REMOTE only) selects nothing to recurse on.
    if (req.recursiveMatch && !req.subscribedOnly && !req.specialUseOnly)
      throw bad('RECURSIVEMATCH needs another selection option');
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
  const store = session.options.store.mail;
  const boxes = await store.listMailboxes(session.user);
  const byName = new Map<string, MailboxInfo>(boxes.map((b) => [b.name, b]));
  // RFC 3501 §6.3.6: subscriptions are names; one may outlive its mailbox.
  const subscribed = new Set(
    req.subscribedOnly || req.returnSubscribed ? await store.listSubscriptions(session.user) : [],
  );
  const names = new Set(byName.keys());
  // Parents implied by a deeper name (e.g. "a" for "a/b") are listed \Noselect for '%'.
  for (const name of byName.keys()) for (const p of ancestors(name)) names.add(p);
  const parents = new Set<string>();
  for (const name of names) {
    const cut = name.lastIndexOf(DELIMITER);
    if (cut > 0) parents.add(name.slice(0, cut));
  }
  const matchers = req.patterns.map((p): PatternMatcher => {
    const full = decodePattern(session, req.reference + p);
    // RFC 3501 §5.1: INBOX is case-insensitive, as the first level of a pattern too.
    if (/^inbox$/i.test(full)) return (name) => name === 'INBOX';
    return compileListPattern(full.replace(/^inbox(?=\/|$)/i, 'INBOX'), DELIMITER, MAX_NAME_LENGTH);
  });
  const matching = (name: string) => matchers.some((match) => match(name));
  // Matching is bounded (list-pattern.ts) but a long pattern list over many long names
  // still adds up: let other connections in now and then.
  const patternChars = req.patterns.reduce((n, p) => n + p.length + 1, req.reference.length);
  let work = 0;
  const pace = async (name: string): Promise<void> => {
    work += name.length * patternChars;
    if (work > YIELD_EVERY) {
      work = 0;
      await new Promise((resolve) => setImmediate(resolve));
    }
  };
  const percent = req.patterns.some((p) => p.includes('%'));
  // Names with a subscribed descendant that the patterns leave out: RFC 5258 §3 RECURSIVEMATCH
  // lists them with CHILDINFO ("SUBSCRIBED") (a descendant that is listed itself needs no
  // such pointer, as Dovecot also answers), and RFC 3501 §6.3.9 has LSUB with '%' list them
  // \Noselect.
  const childInfo = new Set<string>();
  if (req.subscribedOnly && (req.recursiveMatch || (req.lsub && percent))) {
    for (const name of subscribed) {
      await pace(name);
      if (matching(name)) continue;
      for (const p of ancestors(name)) childInfo.add(p);
    }
  }
  if (req.subscribedOnly) for (const name of [...subscribed, ...childInfo]) names.add(name);
  const lines: string[] = [];
  for (const name of [...names].sort((a, b) => (a === 'INBOX' ? -1 : b === 'INBOX' ? 1 : a < b ? -1 : 1))) {
    await pace(name);
    if (!matching(name)) continue;
    const info = byName.get(name);
    const isSubscribed = subscribed.has(name);
    let selected = req.subscribedOnly ? isSubscribed : info !== undefined || percent;
    if (req.specialUseOnly && !info?.specialUse) selected = false;
    const pointer = childInfo.has(name);
    if (!selected && !pointer) continue;
    const attrs: string[] = [];
    if (req.lsub) {
      // RFC 3501 §6.3.9: \Noselect on an LSUB line says the name itself is not subscribed.
      if (!isSubscribed || !info) attrs.push('\\Noselect');
    } else if (!info) {
      // RFC 5258 §3.4: a hierarchy placeholder is \Noselect; a name with nothing under it
      // (a subscription whose mailbox was deleted) is \NonExistent.
      attrs.push(parents.has(name) ? '\\Noselect' : '\\NonExistent');
    }
    attrs.push(parents.has(name) ? '\\HasChildren' : '\\HasNoChildren');
    if (info?.specialUse) attrs.push(info.specialUse);
    if (req.returnSubscribed && isSubscribed) attrs.push('\\Subscribed');
    const extended = pointer && !req.lsub ? ' ("CHILDINFO" ("SUBSCRIBED"))' : '';
    lines.push(
      `* ${word} (${attrs.join(' ')}) "${DELIMITER}" ${astr(session.encodeName(name))}${extended}\r\n`,
    );
  }
  if (lines.length) await session.write(lines);
}

/** "a" and "a/b" for "a/b/c". */
function ancestors(name: string): string[] {
  const levels = name.split(DELIMITER);
  const out: string[] = [];
  for (let i = 1; i < levels.length; i++) out.push(levels.slice(0, i).join(DELIMITER));
  return out;
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
