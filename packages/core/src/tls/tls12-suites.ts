/**
 * TLS 1.2 code points and suite choice: the six ECDHE AEAD suites we speak (RFC 5289 §3.2,
 * RFC 7905 §2), the signalling cipher suite values, the 1.2-only extensions, and the server's
 * suite and group choice.
 */
import type { NamedGroup } from '../crypto/provider.js';
import type { CipherSuite } from './constants.js';

/** How the server authenticates its key exchange in a TLS 1.2 suite (RFC 8422 §2). */
export type Tls12Auth = 'ecdsa' | 'rsa';

export interface Tls12Suite extends CipherSuite {
  readonly auth: Tls12Auth;
  /** RFC 5288 §3: GCM's 4-byte implicit salt; RFC 7905 §2: ChaCha20's 12-byte IV. */
  readonly fixedIvLength: number;
  /** RFC 5288 §3: GCM carries an 8-byte nonce_explicit in each record; ChaCha20 none. */
  readonly explicitNonceLength: number;
}

const gcm128 = {
  aead: 'aes-128-gcm',
  hash: 'sha256',
  keyLength: 16,
  fixedIvLength: 4,
  explicitNonceLength: 8,
} as const;
const gcm256 = {
  aead: 'aes-256-gcm',
  hash: 'sha384',
  keyLength: 32,
  fixedIvLength: 4,
  explicitNonceLength: 8,
} as const;
const chacha = {
  aead: 'chacha20-poly1305',
  hash: 'sha256',
  keyLength: 32,
  fixedIvLength: 12,
  explicitNonceLength: 0,
} as const;

/** Server preference order within each authentication type: AES-128-GCM, AES-256-GCM, ChaCha20. */
export const TLS12_SUITES: readonly Tls12Suite[] = [
  { code: 0xc02b, name: 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', auth: 'ecdsa', ...gcm128 },
  { code: 0xc02c, name: 'TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384', auth: 'ecdsa', ...gcm256 },
  { code: 0xcca9, name: 'TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256', auth: 'ecdsa', ...chacha },
  { code: 0xc02f, name: 'TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256', auth: 'rsa', ...gcm128 },
  { code: 0xc030, name: 'TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384', auth: 'rsa', ...gcm256 },
  { code: 0xcca8, name: 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256', auth: 'rsa', ...chacha },
];

export function tls12SuiteByCode(code: number): Tls12Suite | undefined {
  return TLS12_SUITES.find((s) => s.code === code);
}

/** RFC 5746 §3.3: the SCSV a client may send instead of an empty renegotiation_info. */
export const EMPTY_RENEGOTIATION_INFO_SCSV = 0x00ff;
/** RFC 7507 §2: a client retrying with a lower version than it supports says so. */
export const TLS_FALLBACK_SCSV = 0x5600;

export const EXT12 = {
  ec_point_formats: 11,
  extended_master_secret: 23,
  session_ticket: 35,
  renegotiation_info: 0xff01,
} as const;

/** TLS 1.2 handshake types (RFC 5246 §7.4) that TLS 1.3 does not have. */
export const HandshakeType12 = {
  hello_request: 0,
  server_key_exchange: 12,
  server_hello_done: 14,
  client_key_exchange: 16,
} as const;

/** ECDHE groups for TLS 1.2 (RFC 8422 §5.1.1): the hybrid KEM group is TLS 1.3 only. */
export const TLS12_GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1', 'secp384r1'];

/**
 * Server suite choice (RFC 5246 §7.4.1.3): our order among the suites fitting our certificate,
 * except that a client whose first such suite is ChaCha20 gets it (it likely lacks AES
 * hardware) — the same rule as `chooseSuite` for TLS 1.3.
 */
export function chooseTls12Suite(offered: readonly number[], auth: Tls12Auth): Tls12Suite | undefined {
  const fitting = offered
    .map((c) => tls12SuiteByCode(c))
    .filter((s): s is Tls12Suite => s !== undefined && s.auth === auth);
  if (fitting.length === 0) return undefined;
  if (fitting[0]!.aead === 'chacha20-poly1305') return fitting[0];
  return TLS12_SUITES.find((s) => fitting.includes(s));
}
