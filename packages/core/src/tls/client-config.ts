/**
 * What a TLS client connection is told (TLS 1.3 and TLS 1.2 alike): the name to send and verify,
 * trust anchors, what to offer, and where to keep tickets for resumption.
 */
import type { NamedGroup } from '../crypto/provider.js';
import type { CipherSuite } from './constants.js';
import type { TlsVersion } from './engine.js';
import type { ExtensionHook } from './handshake-common.js';
import type { TlsSessionCache } from './session-cache.js';
import type { Tls12Suite } from './tls12-suites.js';

export interface ClientHandshakeConfig {
  serverName?: string;
  ca?: string | readonly string[];
  rejectUnauthorized: boolean;
  alpnProtocols?: readonly string[];
  /** Groups offered, the first with a key share (default CLIENT_GROUPS ∩ provider). */
  groups?: readonly NamedGroup[];
  suites?: readonly CipherSuite[];
  now?: () => Date;
  extensionHook?: ExtensionHook;
  /** RFC 8446 Appendix D.4 (default true): a legacy session id and change_cipher_spec records. */
  middleboxCompat?: boolean;
  /** Weakest RSA server key accepted (default 2048; the RFC 8448 traces use 1024). */
  minRsaBits?: number;
  /** Versions we offer (default TLSv1.3 only here; the engines default to TLSv1.2–TLSv1.3). */
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** TLS 1.2 suites offered when TLS 1.2 is (default: all six, in our order). */
  suites12?: readonly Tls12Suite[];
  /** TLS 1.3 tickets are kept here, and the newest for `serverName` offered (RFC 8446 §2.2). */
  sessionCache?: TlsSessionCache;
}
