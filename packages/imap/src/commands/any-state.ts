/** Commands valid in any state (RFC 3501 §6.1) and the session-wide extensions ID, ENABLE, NAMESPACE. */
import { bad } from '../errors.js';
import { str } from '../format.js';
import type { Handler } from './table.js';

export const ANY_STATE: Record<string, Handler> = {
  // RFC 3501 §6.1.1
  async CAPABILITY({ session }, r) {
    r.end();
    await session.write(`* CAPABILITY ${session.capabilities().join(' ')}\r\n`);
    return undefined;
  },
  // RFC 3501 §6.1.2: updates are sent by the session before the tagged OK.
  async NOOP(_ctx, r) {
    r.end();
    return undefined;
  },
  // RFC 3501 §6.4.1: CHECK is a NOOP here; every write is already durable.
  async CHECK(_ctx, r) {
    r.end();
    return undefined;
  },
  // RFC 3501 §6.1.3
  async LOGOUT({ session }, r) {
    r.end();
    await session.write('* BYE logging out\r\n');
    session.apply({ type: 'logout' });
    return undefined;
  },
  // RFC 2971 §3.1: ID ( field value ... ) / NIL; the answer names this server.
  async ID({ session }, r) {
    r.sp();
    if (r.peek() === '(') {
      const items = r.list(() => r.nstring());
      if (items.length % 2 !== 0 || items.length > 60) throw bad('invalid ID parameter list');
    } else if (r.atom().toUpperCase() !== 'NIL') throw bad('ID expects a list or NIL');
    r.end();
    await session.write(`* ID (${str('name')} ${str('Postern')} ${str('vendor')} ${str('Postern')})\r\n`);
    return undefined;
  },
  // RFC 5161 §3.1: ENABLE capability...; only in the authenticated state (RFC 5161 §3.1).
  async ENABLE({ session }, r) {
    if (session.state.kind !== 'Authenticated') throw bad('ENABLE is only valid in the authenticated state');
    const enabled: string[] = [];
    do {
      r.sp();
      const cap = r.atom().toUpperCase();
      if ((cap === 'CONDSTORE' || cap === 'UTF8=ACCEPT') && !session.enabled.has(cap)) {
        session.enabled.add(cap);
        enabled.push(cap);
      }
    } while (!r.atEnd());
    await session.write(`* ENABLED${enabled.map((c) => ` ${c}`).join('')}\r\n`);
    return undefined;
  },
  // RFC 2342 §5: one personal namespace, no others (other users' mailboxes are never visible).
  async NAMESPACE({ session }, r) {
    r.end();
    await session.write('* NAMESPACE (("" "/")) NIL NIL\r\n');
    return undefined;
  },
};
