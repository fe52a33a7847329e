/**
 * Why a TLS connection failed, as a typed cause, and the one place that chooses the alert each
 * cause sends (RFC 8446 §6.2). The state machines say what went wrong; which alert a peer gets
 * for it (the RFC's, or what tlsfuzzer and OpenSSL expect where the RFC leaves room) is a row
 * of `PEER_MISBEHAVED` or `NOT_NEGOTIATED`, or a case of `alertFor`; tls-alerts.test.ts pins
 * them. rustls keeps the same split (error enums, converted to alerts in one function).
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
  // Fields that parse but carry a value the protocol forbids (RFC 8446 §4.1.2–§4.2, §4.6.3;
  // RFC 5246 §7.4.1; RFC 8422 §5.1).
  selectedNotOffered: 'illegal_parameter',
  sessionIdNotEchoed: 'illegal_parameter',
  compressionNotNull: 'illegal_parameter',
  badKeyShare: 'illegal_parameter',
  duplicateEntry: 'illegal_parameter',
  badKeyUpdate: 'illegal_parameter',
  badHelloRetryRequest: 'illegal_parameter',
  secondHelloChanged: 'illegal_parameter',
  pskNotLast: 'illegal_parameter',
  certificateRequestContextNotEmpty: 'illegal_parameter',
  uncompressedPointsRefused: 'illegal_parameter',
  curveTypeNotNamed: 'illegal_parameter',
  pskBinderCountMismatch: 'illegal_parameter',
  downgradeDetected: 'illegal_parameter',
  // Extensions (RFC 8446 §4.2, §9.2; RFC 5746 §3.4).
  missingExtension: 'missing_extension',
  unsolicitedExtension: 'unsupported_extension',
  renegotiationInfoNotEmpty: 'handshake_failure',
  // The record layer (RFC 8446 §5.1, §5.2; RFC 5246 §6.2).
  recordVersionChanged: 'protocol_version',
  recordOverflow: 'record_overflow',
  badRecordMac: 'bad_record_mac',
  // The peer's certificate (RFC 8446 §4.4.2; RFC 8422 §5.3).
  unreadableCertificate: 'bad_certificate',
  certificateDoesNotFitSuite: 'unsupported_certificate',
  // Cryptographic checks that failed on well-formed input (RFC 8446 §4.4.3, §4.4.4, §4.2.11).
  finishedMismatch: 'decrypt_error',
  signatureMismatch: 'decrypt_error',
  binderMismatch: 'decrypt_error',
} as const satisfies Record<string, AlertName>;

export type PeerMisbehaved = keyof typeof PEER_MISBEHAVED;

/** Nothing wrong on either side, but nothing in common either (RFC 8446 §4.1.1, §6.2). */
export const NOT_NEGOTIATED = {
  noCommonCipherSuite: 'handshake_failure',
  noCommonGroup: 'handshake_failure',
  noCommonSignatureScheme: 'handshake_failure',
  noCommonApplicationProtocol: 'no_application_protocol',
  /** RFC 7627 §5.3: we require extended master secret in TLS 1.2. */
  extendedMasterSecretRequired: 'handshake_failure',
  /** RFC 5746 §4.1: our client requires secure renegotiation support (we never renegotiate). */
  secureRenegotiationRequired: 'handshake_failure',
  clientCertificatesUnsupported: 'handshake_failure',
} as const satisfies Record<string, AlertName>;

export type NotNegotiated = keyof typeof NOT_NEGOTIATED;

export type TlsFailure =
  /** Bytes that do not parse as the message they claim to be, or have the wrong length. */
  | { readonly kind: 'invalid-message' }
  /** A message or record that is well formed but not one the state allows now. */
  | { readonly kind: 'unexpected-message' }
  | { readonly kind: 'peer-misbehaved'; readonly rule: PeerMisbehaved }
  | { readonly kind: 'not-negotiated'; readonly what: NotNegotiated }
  /** Path validation or the name check failed (client side, verification required). */
  | { readonly kind: 'certificate-rejected'; readonly reason: string }
  /** Our own bug or misuse, never the peer's doing. */
  | { readonly kind: 'internal' };

/** The one map from cause to alert. */
export function alertFor(failure: TlsFailure): AlertName {
  switch (failure.kind) {
    case 'invalid-message':
      return 'decode_error';
    case 'unexpected-message':
      return 'unexpected_message';
    case 'peer-misbehaved':
      return PEER_MISBEHAVED[failure.rule];
    case 'not-negotiated':
      return NOT_NEGOTIATED[failure.what];
    case 'certificate-rejected':
      // RFC 8446 §6.2: the most specific certificate alert the verifier's reason allows.
      return /expired|not yet valid/i.test(failure.reason)
        ? 'certificate_expired'
        : /trust|anchor|issuer|self.signed/i.test(failure.reason)
          ? 'unknown_ca'
          : 'bad_certificate';
    case 'internal':
      return 'internal_error';
  }
}

/**
 * The error every failure inside the sans-I/O core becomes; the connection turns it into an
 * alert record and a close, and nothing else escapes.
 */
export class TlsFatal extends Error {
  readonly failure: TlsFailure;
  readonly alert: AlertName;

  constructor(failure: TlsFailure, message: string) {
    super(message);
    this.name = 'TlsFatal';
    this.failure = failure;
    this.alert = alertFor(failure);
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

export function notNegotiated(what: NotNegotiated, message: string): TlsFatal {
  return new TlsFatal({ kind: 'not-negotiated', what }, message);
}

export function certificateRejected(reason: string): TlsFatal {
  return new TlsFatal({ kind: 'certificate-rejected', reason }, `server certificate rejected: ${reason}`);
}

export function internalError(message: string): TlsFatal {
  return new TlsFatal({ kind: 'internal' }, message);
}

/** The one "expected X, got Y" check of a handshake state machine. */
export function expectMessage(msg: { readonly type: number }, type: number, name: string): void {
  if (msg.type !== type) throw unexpectedMessage(`expected ${name}, got handshake type ${msg.type}`);
}
