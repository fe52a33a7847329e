/**
 * The one TLS interface the protocols see. Two engines implement it: `ts` (our sans-I/O engine,
 * driven over a socket by a Duplex adapter) and `native` (node:tls, the reference the tests and
 * benchmarks compare against).
 */
import type { Duplex } from 'node:stream';
import type { SigningKey } from '../certs/signing.js';
import type { SessionTicketConfig } from './server-psk.js';
import type { TlsSessionCache } from './session-cache.js';

export type TlsVersion = 'TLSv1.3' | 'TLSv1.2';
export type TlsEngineName = 'ts' | 'native';

/** Facts about an established session, logged and exposed to the protocols (Received headers). */
export interface TlsSessionInfo {
  readonly engine: TlsEngineName;
  readonly version: TlsVersion;
  /** IANA suite name, e.g. `TLS_AES_128_GCM_SHA256`. */
  readonly cipherSuite: string;
  /** Key-exchange group, e.g. `x25519`, `secp256r1`, `X25519MLKEM768`, when known. */
  readonly group?: string;
  /** Signature scheme used in CertificateVerify, e.g. `ecdsa_secp256r1_sha256`, when known. */
  readonly signatureScheme?: string;
  /** SNI the client sent (server side) or asked for (client side). */
  readonly serverName?: string;
  readonly alpnProtocol?: string;
  /** The peer's certificate chain, leaf first, DER. Empty when the peer sent none. */
  readonly peerCertificates: readonly Uint8Array[];
  /** Client side: whether the peer chain verified against the trust anchors and the name. */
  readonly peerVerified: boolean;
  /** Client side: why verification failed, when it did (kept for opportunistic TLS logs). */
  readonly verificationError?: string;
  /**
   * A resumed session (TLS 1.3 ticket, RFC 8446 §2.2): no certificate was exchanged; on the
   * client side the peer facts above are those of the handshake that earned the ticket.
   */
  readonly resumed: boolean;
}

/** A certificate chain and its private key, both PEM. */
export interface CertifiedKey {
  /** Leaf first, then intermediates. */
  readonly certificateChainPem: string;
  readonly privateKeyPem: string;
  /**
   * A signer to use instead of loading `privateKeyPem`: HSMs, tests (RFC 8448's fixed-salt RSA-PSS).
   * Honoured by the ts engine's TLS 1.3 CertificateVerify; `privateKeyPem` must still match the leaf.
   */
  readonly signingKey?: SigningKey;
}

/** Chooses the certificate for a connection from the client's SNI (exact, wildcard, default). */
export interface CertificateSource {
  select(serverName: string | undefined): CertifiedKey;
}

interface CommonTlsOptions {
  alpnProtocols?: readonly string[];
  /** Abort the handshake after this long (default 30 s). */
  handshakeTimeoutMs?: number;
  /** NSS key-log lines (SSLKEYLOGFILE format), for Wireshark during integration tests. */
  keyLog?: (line: string) => void;
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
}

export interface TlsServerOptions extends CommonTlsOptions {
  certificates: CertificateSource;
  /**
   * TLS 1.3 session tickets and resumption (default: on, one stateless ticket per handshake,
   * sealed under a per-process key, valid 2 h). `false`: no tickets, no resumption. `native`:
   * node:tls's tickets, valid `lifetimeSeconds`; `count` and `ticketer` are `ts` only.
   */
  sessionTickets?: false | SessionTicketConfig;
}

export interface TlsClientOptions extends CommonTlsOptions {
  /** SNI to send and the name to verify (RFC 6125). */
  serverName?: string;
  /** Trust anchors, PEM. Default: Node's root store (`tls.rootCertificates`). */
  ca?: string | readonly string[];
  /**
   * `true` (default): a failed verification aborts the handshake with an alert.
   * `false`: the handshake completes and `session.peerVerified` tells (opportunistic TLS).
   */
  rejectUnauthorized?: boolean;
  /**
   * Keep TLS 1.3 tickets (`native`: node:tls sessions) here and resume with the newest for
   * `serverName` (share one `MemorySessionCache` between connections, one per engine).
   * Resumption needs no certificate, so a session is offered only if its original handshake
   * verified (`ts`: its chain still verifies) when verification is required.
   */
  sessionCache?: TlsSessionCache;
}

/** An established TLS connection: a Duplex of application data plus the session facts. */
export interface TlsStream extends Duplex {
  readonly session: TlsSessionInfo;
  /** RFC 8446 §7.5 / RFC 5705 exporter. */
  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer;
}

export interface TlsEngine {
  readonly name: TlsEngineName;
  /** Run the server handshake on `socket`; resolves once the handshake is complete. */
  accept(socket: Duplex, options: TlsServerOptions): Promise<TlsStream>;
  /** Run the client handshake on `socket`; resolves once the handshake is complete. */
  connect(socket: Duplex, options: TlsClientOptions): Promise<TlsStream>;
}

/** A handshake or record-layer failure, with the alert that was sent or received. */
export class TlsAlertError extends Error {
  readonly code = 'TLS_ALERT';
  constructor(
    readonly alert: string,
    message: string,
    readonly sentByPeer = false,
  ) {
    super(message);
    this.name = 'TlsAlertError';
  }
}

/**
 * Both engines, once the handshake promise has settled: a stream that events read with the
 * peer's Finished already destroyed is no success, so accept()/connect() reject with its cause.
 */
export function throwIfDestroyed(stream: Duplex): void {
  if (stream.destroyed)
    throw (
      stream.errored ??
      new TlsAlertError('handshake_failure', 'connection closed right after the TLS handshake', true)
    );
}
