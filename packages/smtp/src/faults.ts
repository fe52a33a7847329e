/**
 * Fault injection (issue 6): configured replies given instead of the real ones. Beside the
 * real verbs (MAIL, RCPT, DATA, EHLO, …) two pseudo-commands name replies that answer no
 * command: GREETING (the 220, RFC 5321 §3.1) and END-OF-DATA (the reply after the message,
 * DATA's final dot or BDAT LAST; the message is then dropped, not delivered).
 */
import type { SmtpFaults } from './options.js';
import { reply, type SmtpReply } from './replies.js';

export const GREETING = 'GREETING';
export const END_OF_DATA = 'END-OF-DATA';

export function injectedReply(faults: SmtpFaults, command: string): SmtpReply | undefined {
  const f = faults.replies?.find((r) => r.command.toUpperCase() === command);
  return f && reply(f.code, f.enhanced, f.text);
}
