/**
 * What both handshake sides agree on, and our preferences: suites, groups, signature schemes
 * (RFC 8446 §4.1.1, §4.2.3, §4.2.7), and the small extension encoders both sides use.
 */
import type { NamedGroup } from '../crypto/provider.js';
import { SIGNATURE_SCHEME_CODES, type SignatureScheme } from '../certs/signing.js';
import { CIPHER_SUITES, GROUP_CODES, type CipherSuite } from './constants.js';

/** Extension code points beyond those in constants.ts. */
export const EXT = {
  signature_algorithms_cert: 50,
  record_size_limit: 28,
  renegotiation_info: 0xff01,
} as const;

/** Our group preference for the server's choice among shares the client sent. */
export const SERVER_GROUP_PREFERENCE: readonly NamedGroup[] = [
  'X25519MLKEM768',
  'x25519',
  'secp256r1',
  'secp384r1',
];

/** What our client offers (key share for the first only, HelloRetryRequest gets the rest). */
export const CLIENT_GROUPS: readonly NamedGroup[] = ['x25519', 'secp256r1', 'secp384r1', 'X25519MLKEM768'];

export const OUR_SCHEMES: readonly SignatureScheme[] = [
  'ecdsa_secp256r1_sha256',
  'ecdsa_secp384r1_sha384',
  'ed25519',
  'rsa_pss_rsae_sha256',
  'rsa_pss_rsae_sha384',
  'rsa_pss_rsae_sha512',
];

/** Certificate signatures we can check (signature_algorithms_cert, RFC 8446 §4.2.3): CAs still sign with PKCS#1. */
export const CERT_SCHEME_CODES: readonly number[] = [
  0x0403, 0x0503, 0x0603, 0x0807, 0x0804, 0x0805, 0x0806, 0x0401, 0x0501, 0x0601,
];

/**
 * Server suite choice: our order (AES-128-GCM, AES-256-GCM, ChaCha20), except that a client
 * putting ChaCha20 first among what it offers gets it (it likely lacks AES hardware).
 */
export function chooseSuite(offered: readonly number[]): CipherSuite | undefined {
  const ours = offered
    .map((c) => CIPHER_SUITES.find((s) => s.code === c))
    .filter((s): s is CipherSuite => s !== undefined);
  if (ours.length === 0) return undefined;
  if (ours[0]!.aead === 'chacha20-poly1305') return ours[0];
  return CIPHER_SUITES.find((s) => ours.includes(s));
}

export function schemeCodes(schemes: readonly SignatureScheme[]): number[] {
  return schemes.map((s) => SIGNATURE_SCHEME_CODES[s]);
}

export function groupCodes(groups: readonly NamedGroup[]): number[] {
  return groups.map((g) => GROUP_CODES[g]);
}

/** supported_versions as the client sends it (a u8-length list) and the server (one u16). */
export function clientVersions(versions: readonly number[]): Uint8Array {
  const out = new Uint8Array(1 + versions.length * 2);
  out[0] = versions.length * 2;
  versions.forEach((v, i) => {
    out[1 + i * 2] = v >> 8;
    out[2 + i * 2] = v & 0xff;
  });
  return out;
}
