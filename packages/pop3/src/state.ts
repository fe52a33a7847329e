/**
 * The POP3 session state machine (RFC 1939 §3): AUTHORIZATION → TRANSACTION → UPDATE, plus
 * CLOSED. Pure data and one transition function; the session holds the resources (channel,
 * maildrop, lock) and asks `transition` whether a step is legal.
 */

export type Pop3Phase = 'AUTHORIZATION' | 'TRANSACTION' | 'UPDATE' | 'CLOSED';

export interface AuthorizationState {
  readonly phase: 'AUTHORIZATION';
  /** The name given by USER, waiting for PASS (RFC 1939 §7). */
  readonly pendingUser?: string;
}

export interface TransactionState {
  readonly phase: 'TRANSACTION';
  /** The store's user whose maildrop is open and locked. */
  readonly user: string;
}

export interface UpdateState {
  readonly phase: 'UPDATE';
  readonly user: string;
}

export interface ClosedState {
  readonly phase: 'CLOSED';
  /** Why the session ended; `quit` is the only way through UPDATE. */
  readonly reason: 'quit' | 'dropped';
}

export type Pop3State = AuthorizationState | TransactionState | UpdateState | ClosedState;

export type Pop3Event =
  /** USER name (RFC 1939 §7). */
  | { readonly type: 'user'; readonly name: string }
  /** PASS or AUTH failed, or STLS completed: forget any USER (RFC 2595 §4). */
  | { readonly type: 'reset' }
  /** Credentials verified and the maildrop locked (RFC 1939 §4 last paragraph). */
  | { readonly type: 'authenticated'; readonly user: string }
  /** QUIT: from AUTHORIZATION straight to CLOSED, from TRANSACTION into UPDATE (RFC 1939 §6). */
  | { readonly type: 'quit' }
  /** The UPDATE state's work is done (or failed); the connection closes. */
  | { readonly type: 'updated' }
  /** Connection lost, autologout, fatal error or shutdown: never through UPDATE (RFC 1939 §6). */
  | { readonly type: 'drop' };

export const INITIAL_STATE: AuthorizationState = { phase: 'AUTHORIZATION' };

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: Pop3Phase,
    readonly event: Pop3Event['type'],
  ) {
    super(`POP3: no transition for '${event}' in the ${from} state`);
    this.name = 'InvalidTransitionError';
  }
}

export function transition(state: Pop3State, event: Pop3Event): Pop3State {
  if (event.type === 'drop') return state.phase === 'CLOSED' ? state : { phase: 'CLOSED', reason: 'dropped' };
  switch (state.phase) {
    case 'AUTHORIZATION':
      switch (event.type) {
        case 'user':
          return { phase: 'AUTHORIZATION', pendingUser: event.name };
        case 'reset':
          return INITIAL_STATE;
        case 'authenticated':
          return { phase: 'TRANSACTION', user: event.user };
        case 'quit':
          // RFC 1939 §4: QUIT in AUTHORIZATION ends the session; nothing to update.
          return { phase: 'CLOSED', reason: 'quit' };
        default:
          break;
      }
      break;
    case 'TRANSACTION':
      if (event.type === 'quit') return { phase: 'UPDATE', user: state.user };
      break;
    case 'UPDATE':
      if (event.type === 'updated') return { phase: 'CLOSED', reason: 'quit' };
      break;
    case 'CLOSED':
      break;
  }
  throw new InvalidTransitionError(state.phase, event.type);
}

/** The commands this server knows (RFC 1939 §§4-7, RFC 2449 §5, RFC 2595 §4, RFC 5034 §4). */
export type Pop3Command =
  | 'USER'
  | 'PASS'
  | 'AUTH'
  | 'STLS'
  | 'CAPA'
  | 'QUIT'
  | 'NOOP'
  | 'STAT'
  | 'LIST'
  | 'RETR'
  | 'DELE'
  | 'RSET'
  | 'TOP'
  | 'UIDL';

/** In which state each command is valid; anything else is answered -ERR. */
export const COMMAND_PHASES: Readonly<Record<Pop3Command, readonly Pop3Phase[]>> = {
  USER: ['AUTHORIZATION'],
  PASS: ['AUTHORIZATION'],
  AUTH: ['AUTHORIZATION'],
  STLS: ['AUTHORIZATION'], // RFC 2595 §4: only in the AUTHORIZATION state
  CAPA: ['AUTHORIZATION', 'TRANSACTION'], // RFC 2449 §5: valid in both
  QUIT: ['AUTHORIZATION', 'TRANSACTION'],
  NOOP: ['TRANSACTION'],
  STAT: ['TRANSACTION'],
  LIST: ['TRANSACTION'],
  RETR: ['TRANSACTION'],
  DELE: ['TRANSACTION'],
  RSET: ['TRANSACTION'],
  TOP: ['TRANSACTION'],
  UIDL: ['TRANSACTION'],
};

export function isCommand(keyword: string): keyword is Pop3Command {
  return Object.prototype.hasOwnProperty.call(COMMAND_PHASES, keyword);
}

export function allowedIn(command: Pop3Command, phase: Pop3Phase): boolean {
  return COMMAND_PHASES[command].includes(phase);
}
