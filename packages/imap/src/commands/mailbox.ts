/**
 * Mailbox commands of the authenticated state (RFC 3501 §6.3): SELECT, EXAMINE, CREATE,
 * DELETE, RENAME, SUBSCRIBE, UNSUBSCRIBE, STATUS. Every store call names the session's own
 * user: no command can reach another user's mailboxes.
 */
import { bad, no } from '../errors.js';
import { astr } from '../format.js';
import { enableCondstore } from '../condstore.js';
import { SelectedMailbox } from '../selected.js';
import type { ImapSession } from '../session.js';
import type { Handler } from './table.js';

async function open(
  session: ImapSession,
  readOnly: boolean,
  wire: string,
  condstore: boolean,
): Promise<string> {
  // RFC 3501 §6.3.1: a SELECT first deselects; if it then fails the session is authenticated.
  if (session.state.kind === 'Selected') session.apply({ type: 'deselect' });
  const name = session.decodeName(wire);
  const store = session.options.store.mail;
  const info = await store.getMailbox(session.user, name);
  if (!info) throw no('no such mailbox', 'NONEXISTENT');
  if (condstore) session.enabled.add('CONDSTORE'); // RFC 7162 §3.1.8
  const box = await SelectedMailbox.open(store, session.user, name, info, readOnly);
  session.apply({ type: 'select', mailbox: box });
  const all = box.all();
  const firstUnseen = all.find((m) => !m.meta.flags.includes('\\Seen'));
  const lines = [
    ...box.flagsLines(),
    `* ${box.exists} EXISTS\r\n`,
    `* 0 RECENT\r\n`,
    `* OK [UIDVALIDITY ${info.uidValidity}] UIDs valid\r\n`,
    `* OK [UIDNEXT ${box.uidNext}] predicted next UID\r\n`,
  ];
  if (firstUnseen) lines.push(`* OK [UNSEEN ${firstUnseen.seq}] first unseen\r\n`);
  if (session.condstore) lines.push(`* OK [HIGHESTMODSEQ ${box.highestModseq}] highest\r\n`);
  await session.write(lines);
  return `[${readOnly ? 'READ-ONLY' : 'READ-WRITE'}] ${readOnly ? 'EXAMINE' : 'SELECT'} completed`;
}

function selectParams(r: Parameters<Handler>[1]): boolean {
  let condstore = false;
  if (r.tryChar(' ')) {
    r.list(() => {
      const p = r.atom().toUpperCase();
      if (p === 'CONDSTORE') condstore = true;
      else throw bad(`unknown select parameter ${p}`);
    });
  }
  r.end();
  return condstore;
}

export const MAILBOX_COMMANDS: Record<string, Handler> = {
  async SELECT({ session }, r) {
    r.sp();
    const wire = r.astring();
    return open(session, false, wire, selectParams(r));
  },
  async EXAMINE({ session }, r) {
    r.sp();
    const wire = r.astring();
    return open(session, true, wire, selectParams(r));
  },
  // RFC 3501 §6.3.3; a trailing delimiter only says the client wants children (ignored).
  async CREATE({ session }, r) {
    r.sp();
    let wire = r.astring();
    r.end();
    if (wire.endsWith('/')) wire = wire.slice(0, -1);
    const name = session.decodeName(wire);
    if (name === 'INBOX') throw no('INBOX already exists', 'ALREADYEXISTS');
    if (await session.options.store.mail.getMailbox(session.user, name))
      throw no('mailbox already exists', 'ALREADYEXISTS');
    await session.options.store.mail.createMailbox(session.user, name);
    return undefined;
  },
  // RFC 3501 §6.3.4
  async DELETE({ session }, r) {
    r.sp();
    const wire = r.astring();
    r.end();
    const name = session.decodeName(wire);
    if (name === 'INBOX') throw no('INBOX cannot be deleted', 'CANNOT');
    if (!(await session.options.store.mail.getMailbox(session.user, name)))
      throw no('no such mailbox', 'NONEXISTENT');
    await session.options.store.mail.deleteMailbox(session.user, name);
    return undefined;
  },
  // RFC 3501 §6.3.5
  async RENAME({ session }, r) {
    r.sp();
    const fromWire = r.astring();
    r.sp();
    const toWire = r.astring();
    r.end();
    const from = session.decodeName(fromWire);
    const to = session.decodeName(toWire);
    const store = session.options.store.mail;
    if (!(await store.getMailbox(session.user, from))) throw no('no such mailbox', 'NONEXISTENT');
    if (to === 'INBOX' || (await store.getMailbox(session.user, to)))
      throw no('target mailbox exists', 'ALREADYEXISTS');
    await store.renameMailbox(session.user, from, to);
    return undefined;
  },
  // RFC 3501 §6.3.6, §6.3.7
  async SUBSCRIBE({ session }, r) {
    r.sp();
    const wire = r.astring();
    r.end();
    const name = session.decodeName(wire);
    if (!(await session.options.store.mail.getMailbox(session.user, name)))
      throw no('no such mailbox', 'NONEXISTENT');
    await session.options.store.mail.setSubscribed(session.user, name, true);
    return undefined;
  },
  async UNSUBSCRIBE({ session }, r) {
    r.sp();
    const wire = r.astring();
    r.end();
    const name = session.decodeName(wire);
    // No mailbox check: a subscription can outlive its mailbox (RFC 3501 §6.3.6); the store
    // refuses a name that is neither.
    await session.options.store.mail.setSubscribed(session.user, name, false);
    return undefined;
  },
  // RFC 3501 §6.3.10 (HIGHESTMODSEQ: RFC 7162 §3.1.6; SIZE: RFC 8438)
  async STATUS({ session }, r) {
    r.sp();
    const wire = r.astring();
    r.sp();
    const items = r.list(() => r.atom().toUpperCase(), false);
    r.end();
    const name = session.decodeName(wire);
    const info = await session.options.store.mail.getMailbox(session.user, name);
    if (!info) throw no('no such mailbox', 'NONEXISTENT');
    const out: string[] = [];
    for (const item of items) {
      switch (item) {
        case 'MESSAGES':
          out.push(`MESSAGES ${info.messages}`);
          break;
        case 'RECENT':
          out.push(`RECENT ${info.recent}`);
          break;
        case 'UIDNEXT':
          out.push(`UIDNEXT ${info.uidNext}`);
          break;
        case 'UIDVALIDITY':
          out.push(`UIDVALIDITY ${info.uidValidity}`);
          break;
        case 'UNSEEN':
          out.push(`UNSEEN ${info.unseen}`);
          break;
        case 'HIGHESTMODSEQ':
          await enableCondstore(session); // RFC 7162 §3.1: CONDSTORE-enabling
          out.push(`HIGHESTMODSEQ ${info.highestModseq}`);
          break;
        default:
          throw bad(`unknown status item ${item}`);
      }
    }
    await session.write(`* STATUS ${astr(session.encodeName(name))} (${out.join(' ')})\r\n`);
    return undefined;
  },
};
