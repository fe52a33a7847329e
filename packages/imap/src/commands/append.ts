/**
 * APPEND (RFC 3501 §6.3.11) with flags and date-time, answered with APPENDUID (RFC 4315 §3).
 * The literal's size limit is enforced while the command is read (command-reader.ts); the
 * OK goes out only once the store acknowledged the message as durable.
 */
import { bad, no } from '../errors.js';
import { storableMessage } from '../binary-append.js';
import { parseDateTime } from '../format.js';
import type { Handler } from './table.js';

export const APPEND_COMMANDS: Record<string, Handler> = {
  async APPEND({ session }, r) {
    r.sp();
    const wire = r.astring();
    r.sp();
    let flags: string[] = [];
    if (r.peek() === '(') {
      flags = r.list(() => r.flag());
      r.sp();
    }
    let internalDate: Date | undefined;
    if (r.peek() === '"') {
      const text = r.string();
      internalDate = parseDateTime(text);
      if (!internalDate) throw bad('invalid date-time');
      r.sp();
    }
    let message: Buffer;
    if (r.peekWord('UTF8 ')) {
      // RFC 6855 §4: APPEND ... UTF8 (literal8)
      r.atom();
      r.sp();
      r.expect('(');
      if (r.peek() !== '\0') throw bad('UTF8 expects a literal');
      message = r.stringBytes();
      r.expect(')');
    } else {
      if (r.peek() !== '\0') throw bad('APPEND expects the message as a literal');
      message = r.stringBytes();
    }
    r.end();
    const name = session.decodeName(wire);
    if (flags.some((f) => f.toLowerCase() === '\\recent'))
      flags = flags.filter((f) => f.toLowerCase() !== '\\recent');
    const store = session.options.store.mail;
    // RFC 3501 §6.3.11: a missing target is NO [TRYCREATE].
    if (!(await store.getMailbox(session.user, name))) throw no('no such mailbox', 'TRYCREATE');
    // RFC 3516 §4.4: binary content (NUL) is stored base64-encoded, so BODY[] can show it.
    const res = await store.append(session.user, name, await storableMessage(message), {
      flags,
      internalDate,
    });
    return `[APPENDUID ${res.uidValidity} ${res.uid}] APPEND completed`;
  },
};
