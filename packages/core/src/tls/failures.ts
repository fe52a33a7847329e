/**
 * Why a TLS connection failed, as a typed cause, and the one place that chooses the alert each
 * cause sends (RFC 8446 §6.2). The state machines say what went wrong; which alert a peer gets
 * for it (the RFC's, or what tlsfuzzer and OpenSSL expect where the RFC leaves room) is a row
 * of `PEER_MISBEHAVED` or a case of `alertFor`, pinned by tls-alerts.test.ts.
 */
import type { AlertName } from './alerts.js';

/** Rules a peer broke, by name, and the alert each one gets. */
export const PEER_MISBEHAVED = {
  // Versions (RFC 8446 §4.1.2, §4.2.1, Appendix D.5; RFC 7507 §3).
  legacyVersionTooLow: 'protocol_version',
  noCommonVersion: 'protocol_version',
  clientLacksTls13: 'protocol_version',
  serverLacksTls13: 'protocol_version',
  inappropriateFallback: 'inappropriate_fallback',
  // record_size_limit (RFC 8449 §4; RFC 8446 §4.1.2 for the second ClientHello).
  recordSizeLimitTooSmall: 'illegal_parameter',
  recordSizeLimitChangedAfterRetry: 'illegal_parameter',
  // Records out of place (RFC 8446 §5, §5.1, §4.2.10; RFC 5246 §7.1).
  unexpectedChangeCipherSpec: 'unexpected_message',
  secondChangeCipherSpec: 'unexpected_message',
  emptyAlert: 'unexpected_message',
  emptyHandshakeRecord: 'unexpected_message',
  recordInterleavedWithHandshake: 'unexpected_message',
  handshakeSpansKeyChange: 'unexpected_message',
  applicationDataBeforeKeys: 'unexpected_message',
  applicationDataDuringHandshake: 'unexpected_message',
  tooMuchEarlyData: 'unexpected_message',
  // Hellos repeated where the protocol has one.
  secondHelloRetryRequest: 'unexpected_message',
  secondServerHello: 'unexpected_message',
  secondClientHello: 'unexpected_message',
  // Cryptographic checks that failed on well-formed input (RFC 8446 §4.4.3, §4.4.4, §4.2.11).
  finishedMismatch: 'decrypt_error',
  signatureMismatch: 'decrypt_error',
  binderMismatch: 'decrypt_error',
} as const satisfies Record<string, AlertName>;

export type PeerMisbehaved = keyof typeof PEER_MISBEHAVED;

export type TlsFailure =
  /** Bytes that do not parse as the message they claim to be, or have the wrong length. */
  | { readonly kind: 'invalid-message' }
  /** A message or record that is well formed but not one the state allows now. */
  | { readonly kind: 'unexpected-message' }
  | { readonly kind: 'peer-misbehaved'; readonly rule: PeerMisbehaved }
  /** A site that still names its alert itself (not yet given a typed cause). */
  | { readonly kind: 'alert'; readonly alert: AlertName };

/** The one map from cause to alert. */
export function alertFor(failure: TlsFailure): AlertName {
  switch (failure.kind) {
    case 'invalid-message':
      return 'decode_error';
    case 'unexpected-message':
      return 'unexpected_message';
    case 'peer-misbehaved':
      return PEER_MISBEHAVED[failure.rule];
    case 'alert':
      return failure.alert;
  }
}

/**
 * The error every failure inside the sans-I/O core becomes; the connection turns it into an
 * alert record and a close, and nothing else escapes.
 */
export class TlsFatal extends Error {
  readonly failure: TlsFailure;
  readonly alert: AlertName;

  constructor(failure: TlsFailure | AlertName, message: string) {
    super(message);
    this.name = 'TlsFatal';
    this.failure = typeof failure === 'string' ? { kind: 'alert', alert: failure } : failure;
    this.alert = alertFor(this.failure);
  }
}

export function invalidMessage(message: string): TlsFatal {
  return new TlsFatal({ kind: 'invalid-message' }, message);
}

/** Shorthand for the common strict-parsing failure. */
export const decodeError = invalidMessage;

export function unexpectedMessage(message: string): TlsFatal {
  return new TlsFatal({ kind: 'unexpected-message' }, message);
}

export function misbehaved(rule: PeerMisbehaved, message: string): TlsFatal {
  return new TlsFatal({ kind: 'peer-misbehaved', rule }, message);
}

/** The one "expected X, got Y" check of a handshake state machine. */
export function expectMessage(msg: { readonly type: number }, type: number, name: string): void {
  if (msg.type !== type) throw unexpectedMessage(`expected ${name}, got handshake type ${msg.type}`);
}
