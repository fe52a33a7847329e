/**
 * The session's state as one value and the one function that changes it. NNTP has no phases
 * as POP3 does; what a command may do depends on TLS, authentication (RFC 4643 §2.2) and the
 * "currently selected newsgroup" and "current article number" of RFC 3977 §6.
 */

export type AuthState =
  | { readonly kind: 'anonymous' }
  /** AUTHINFO USER accepted, waiting for AUTHINFO PASS (RFC 4643 §2.3). */
  | { readonly kind: 'user-given'; readonly user: string }
  | { readonly kind: 'authenticated'; readonly user: string };

export interface NntpState {
  readonly open: boolean;
  readonly secure: boolean;
  readonly auth: AuthState;
  /** Currently selected newsgroup (RFC 3977 §6.1.1). */
  readonly group: string | null;
  /** Current article number; null when the group is empty or none is selected. */
  readonly article: number | null;
}

export type NntpEvent =
  /** STARTTLS completed, or the implicit-TLS handshake. */
  | { readonly type: 'tls' }
  | { readonly type: 'user'; readonly user: string }
  | { readonly type: 'authenticated'; readonly user: string }
  | { readonly type: 'auth-failed' }
  | { readonly type: 'select-group'; readonly group: string; readonly article: number | null }
  | { readonly type: 'select-article'; readonly article: number }
  | { readonly type: 'close' };

export const INITIAL_STATE: NntpState = {
  open: true,
  secure: false,
  auth: { kind: 'anonymous' },
  group: null,
  article: null,
};

export class InvalidTransitionError extends Error {
  constructor(state: NntpState, event: NntpEvent) {
    super(
      `NNTP: event ${event.type} not allowed (secure=${state.secure}, auth=${state.auth.kind}, open=${state.open})`,
    );
    this.name = 'InvalidTransitionError';
  }
}

export function isAuthenticated(state: NntpState): boolean {
  return state.auth.kind === 'authenticated';
}

export function transition(state: NntpState, event: NntpEvent): NntpState {
  if (!state.open) throw new InvalidTransitionError(state, event);
  switch (event.type) {
    case 'tls':
      // RFC 4642 §2.2.2: no TLS over TLS, none after authentication; afterwards the session is
      // back at the greeting state: group, article and a half-done AUTHINFO are forgotten.
      if (state.secure || isAuthenticated(state)) throw new InvalidTransitionError(state, event);
      return { ...INITIAL_STATE, secure: true };
    case 'user':
      if (isAuthenticated(state)) throw new InvalidTransitionError(state, event);
      return { ...state, auth: { kind: 'user-given', user: event.user } };
    case 'authenticated':
      // RFC 4643 §2.2: authentication happens at most once per session.
      if (isAuthenticated(state)) throw new InvalidTransitionError(state, event);
      return { ...state, auth: { kind: 'authenticated', user: event.user } };
    case 'auth-failed':
      if (isAuthenticated(state)) throw new InvalidTransitionError(state, event);
      return { ...state, auth: { kind: 'anonymous' } };
    case 'select-group':
      return { ...state, group: event.group, article: event.article };
    case 'select-article':
      if (state.group === null) throw new InvalidTransitionError(state, event);
      return { ...state, article: event.article };
    case 'close':
      return { ...state, open: false };
  }
}
