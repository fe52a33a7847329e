/**
 * Signatures over the TLS 1.2 ServerKeyExchange (RFC 5246 §7.4.3, RFC 8422 §5.4). TLS 1.2 adds to
 * the TLS 1.3 schemes the PKCS#1 v1.5 RSA ones (many 1.2 peers know no other, RFC 5246
 * §7.4.1.4.1), and its ECDSA code points name a hash only, not a curve (RFC 8446 §4.2.3 notes
 * the difference). The signature schemes of certs/signing.ts stay TLS 1.3's.
 */
import { X509Certificate, constants, createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';
import type { CertifiedKey } from './engine.js';
import type { Tls12Auth } from './tls12-suites.js';
import { parsePemChain } from '../certs/pem.js';

interface Scheme12 {
  readonly code: number;
  readonly name: string;
  readonly keyType: 'ec' | 'rsa' | 'ed25519';
  readonly hash: 'sha256' | 'sha384' | 'sha512' | null;
  readonly pss?: boolean;
}

/** Our preference order, as a server picks and as a client offers. */
export const TLS12_SCHEMES: readonly Scheme12[] = [
  { code: 0x0403, name: 'ecdsa_secp256r1_sha256', keyType: 'ec', hash: 'sha256' },
  { code: 0x0503, name: 'ecdsa_secp384r1_sha384', keyType: 'ec', hash: 'sha384' },
  { code: 0x0603, name: 'ecdsa_secp521r1_sha512', keyType: 'ec', hash: 'sha512' },
  { code: 0x0807, name: 'ed25519', keyType: 'ed25519', hash: null },
  { code: 0x0804, name: 'rsa_pss_rsae_sha256', keyType: 'rsa', hash: 'sha256', pss: true },
  { code: 0x0805, name: 'rsa_pss_rsae_sha384', keyType: 'rsa', hash: 'sha384', pss: true },
  { code: 0x0806, name: 'rsa_pss_rsae_sha512', keyType: 'rsa', hash: 'sha512', pss: true },
  { code: 0x0401, name: 'rsa_pkcs1_sha256', keyType: 'rsa', hash: 'sha256' },
  { code: 0x0501, name: 'rsa_pkcs1_sha384', keyType: 'rsa', hash: 'sha384' },
  { code: 0x0601, name: 'rsa_pkcs1_sha512', keyType: 'rsa', hash: 'sha512' },
];

export const TLS12_SCHEME_CODES: readonly number[] = TLS12_SCHEMES.map((s) => s.code);

const HASH_LENGTH = { sha256: 32, sha384: 48, sha512: 64 } as const;
const MIN_RSA_BITS = 2048;

export function scheme12ByCode(code: number): Scheme12 | undefined {
  return TLS12_SCHEMES.find((s) => s.code === code);
}

function options(scheme: Scheme12, key: KeyObject) {
  if (scheme.keyType === 'rsa') {
    // RFC 8446 §4.2.3 (and RFC 5246 for PKCS#1): PSS uses MGF1 with the same hash, salt = digest length.
    return scheme.pss
      ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[scheme.hash!] }
      : { key, padding: constants.RSA_PKCS1_PADDING };
  }
  // ECDSA-Sig-Value, DER (RFC 8422 §5.4).
  if (scheme.keyType === 'ec') return { key, dsaEncoding: 'der' as const };
  return { key };
}

export interface Signer12 {
  readonly auth: Tls12Auth;
  readonly chain: readonly Uint8Array[];
  /** Our schemes for this key, in preference order. */
  readonly schemes: readonly Scheme12[];
  sign(scheme: Scheme12, data: Uint8Array): Uint8Array;
}

const signers = new WeakMap<CertifiedKey, Signer12>();

/** The TLS 1.2 signer for a certificate and key (cached per CertifiedKey). */
export function signer12For(certified: CertifiedKey): Signer12 {
  let s = signers.get(certified);
  if (s) return s;
  const key = createPrivateKey({ key: certified.privateKeyPem, format: 'pem' });
  const type = key.asymmetricKeyType;
  if (type !== 'ec' && type !== 'rsa' && type !== 'ed25519')
    throw new Error(`unsupported key type ${type ?? 'unknown'}`);
  if (type === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS)
    throw new Error('RSA key shorter than 2048 bits');
  let schemes = TLS12_SCHEMES.filter((sc) => sc.keyType === type);
  if (type === 'ec') {
    // The hash that matches the curve's strength first (RFC 8422 §5.10 leaves the choice to us).
    const first = key.asymmetricKeyDetails?.namedCurve === 'secp384r1' ? 0x0503 : 0x0403;
    schemes = [...schemes.filter((sc) => sc.code === first), ...schemes.filter((sc) => sc.code !== first)];
  }
  s = {
    // RFC 8422 §2: Ed25519 certificates serve the ECDHE_ECDSA suites.
    auth: type === 'rsa' ? 'rsa' : 'ecdsa',
    chain: parsePemChain(certified.certificateChainPem),
    schemes,
    sign: (scheme, data) => new Uint8Array(sign(scheme.hash, data, options(scheme, key))),
  };
  signers.set(certified, s);
  return s;
}

/** The key type a certificate's public key is, for matching against the negotiated suite. */
export function certificateAuth(leaf: Uint8Array): Tls12Auth | undefined {
  const type = new X509Certificate(leaf).publicKey.asymmetricKeyType;
  return type === 'rsa' ? 'rsa' : type === 'ec' || type === 'ed25519' ? 'ecdsa' : undefined;
}

/** Check a ServerKeyExchange signature with the leaf certificate's key. */
export function verify12(
  leaf: Uint8Array,
  scheme: Scheme12,
  data: Uint8Array,
  signature: Uint8Array,
  minRsaBits = MIN_RSA_BITS,
): boolean {
  const key = new X509Certificate(leaf).publicKey;
  if (key.asymmetricKeyType !== scheme.keyType) return false;
  if (scheme.keyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < minRsaBits) return false;
  try {
    return verify(scheme.hash, data, options(scheme, key), signature);
  } catch {
    return false;
  }
}
