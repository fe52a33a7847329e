/**
 * The SMTP session state machine (RFC 5321 §4.1.4, RFC 3030 for BDAT): which commands are
 * allowed when, as one state type and one transition function. Authentication is kept beside
 * it (it survives RSET, not STARTTLS).
 */
import type { MailParams, RcptParams } from './envelope.js';
import { SmtpError } from './replies.js';
import type { MessageSpool } from './spool.js';

export interface Helo {
  name: string;
  /** EHLO (true) or HELO (false). */
  extended: boolean;
}

export interface Recipient {
  address: string;
  params: RcptParams;
  /** Where it goes: a local user, a newsgroup (mail-to-news), or the relay. */
  target: { kind: 'local'; user: string } | { kind: 'group'; group: string } | { kind: 'remote' };
}

export interface Transaction {
  from: string;
  params: MailParams;
  recipients: Recipient[];
}

export type SmtpState =
  | { kind: 'connected' }
  | { kind: 'ready'; helo: Helo }
  | { kind: 'mail'; helo: Helo; tx: Transaction }
  /** BDAT chunks arriving (RFC 3030 §2); the spool holds what came so far. */
  | { kind: 'bdat'; helo: Helo; tx: Transaction; spool: MessageSpool };

export type SmtpEvent =
  | { type: 'helo'; helo: Helo }
  | { type: 'mail'; tx: Transaction }
  | { type: 'rcpt'; recipient: Recipient }
  | { type: 'bdat-chunk'; spool: MessageSpool }
  | { type: 'message-done' }
  | { type: 'rset' }
  /** STARTTLS succeeded: back to the start, EHLO again (RFC 3207 §4.2). */
  | { type: 'tls' };

export const INITIAL_STATE: SmtpState = { kind: 'connected' };

export function transition(state: SmtpState, event: SmtpEvent): SmtpState {
  switch (event.type) {
    case 'helo':
      // RFC 5321 §4.1.4: EHLO/HELO anywhere resets the transaction.
      return { kind: 'ready', helo: event.helo };
    case 'tls':
      return { kind: 'connected' };
    case 'rset':
      return state.kind === 'connected' ? state : { kind: 'ready', helo: state.helo };
    case 'mail':
      if (state.kind === 'connected') throw new SmtpError(503, '5.5.1', 'Send EHLO or HELO first');
      if (state.kind !== 'ready')
        throw new SmtpError(503, '5.5.1', 'Sender already given; RSET to start over');
      return { kind: 'mail', helo: state.helo, tx: event.tx };
    case 'rcpt':
      if (state.kind === 'bdat') throw new SmtpError(503, '5.5.1', 'RCPT not allowed during BDAT');
      if (state.kind !== 'mail') throw new SmtpError(503, '5.5.1', 'Need MAIL before RCPT');
      return { ...state, tx: { ...state.tx, recipients: [...state.tx.recipients, event.recipient] } };
    case 'bdat-chunk':
      if (state.kind === 'bdat') return state;
      if (state.kind !== 'mail') throw new SmtpError(503, '5.5.1', 'Need MAIL before BDAT');
      if (state.tx.recipients.length === 0) throw new SmtpError(554, '5.5.1', 'No valid recipients');
      return { kind: 'bdat', helo: state.helo, tx: state.tx, spool: event.spool };
    case 'message-done':
      if (state.kind === 'connected') return state;
      return { kind: 'ready', helo: state.helo };
  }
}

/** The transaction DATA would start now, or the reason it cannot. */
export function dataAllowed(state: SmtpState): Transaction {
  if (state.kind === 'bdat') throw new SmtpError(503, '5.5.1', 'DATA not allowed after BDAT');
  if (state.kind !== 'mail') throw new SmtpError(503, '5.5.1', 'Need MAIL and RCPT before DATA');
  if (state.tx.recipients.length === 0) throw new SmtpError(554, '5.5.1', 'No valid recipients');
  return state.tx;
}
