/**
 * The IMAP connection states (RFC 3501 §3) as a type, and the only way between them.
 *
 *   NotAuthenticated --login--> Authenticated --select--> Selected
 *   Selected --close/unselect--> Authenticated;  Selected --select--> Selected
 *   any --logout--> Logout
 */
import type { SelectedMailbox } from './selected.js';

export type ImapState =
  | { kind: 'NotAuthenticated' }
  | { kind: 'Authenticated'; user: string }
  | { kind: 'Selected'; user: string; mailbox: SelectedMailbox }
  | { kind: 'Logout' };

export type ImapEvent =
  | { type: 'login'; user: string }
  | { type: 'select'; mailbox: SelectedMailbox }
  | { type: 'deselect' }
  | { type: 'logout' };

export const INITIAL_STATE: ImapState = { kind: 'NotAuthenticated' };

export class IllegalTransition extends Error {}

export function transition(state: ImapState, event: ImapEvent): ImapState {
  switch (event.type) {
    case 'logout':
      return { kind: 'Logout' }; // RFC 3501 §3.4
    case 'login':
      if (state.kind !== 'NotAuthenticated') break; // RFC 3501 §3.1 → §3.2
      return { kind: 'Authenticated', user: event.user };
    case 'select':
      // RFC 3501 §6.3.1: a SELECT while selected first deselects the current mailbox.
      if (state.kind !== 'Authenticated' && state.kind !== 'Selected') break;
      return { kind: 'Selected', user: state.user, mailbox: event.mailbox };
    case 'deselect':
      if (state.kind === 'Selected') return { kind: 'Authenticated', user: state.user };
      if (state.kind === 'Authenticated') return state;
      break;
  }
  throw new IllegalTransition(`${event.type} is not allowed in ${state.kind}`);
}

export type StateKind = ImapState['kind'];

/** Which states each command is valid in (RFC 3501 §6). */
export function allowedStates(command: string): StateKind[] {
  switch (command) {
    case 'CAPABILITY':
    case 'NOOP':
    case 'LOGOUT':
    case 'ID':
      return ['NotAuthenticated', 'Authenticated', 'Selected'];
    case 'STARTTLS':
    case 'LOGIN':
    case 'AUTHENTICATE':
      return ['NotAuthenticated'];
    case 'CHECK':
    case 'CLOSE':
    case 'UNSELECT':
    case 'EXPUNGE':
    case 'SEARCH':
    case 'FETCH':
    case 'STORE':
    case 'COPY':
    case 'MOVE':
    case 'UID':
      return ['Selected'];
    default:
      return ['Authenticated', 'Selected'];
  }
}
