/**
 * The signatures TLS makes and checks with certificate keys: CertificateVerify (RFC 8446
 * §4.4.3) and the TLS 1.2 ServerKeyExchange (RFC 5246 §7.4.3). Keys are loaded with
 * node:crypto; schemes follow the RFC 8446 §4.2.3 registry, restricted to what Postern offers.
 */
import { X509Certificate, constants, createPrivateKey, sign, verify, type KeyObject } from 'node:crypto';
import { CertificateError } from '../errors.js';

export type SignatureScheme =
  | 'ecdsa_secp256r1_sha256'
  | 'ecdsa_secp384r1_sha384'
  | 'ed25519'
  | 'rsa_pss_rsae_sha256'
  | 'rsa_pss_rsae_sha384'
  | 'rsa_pss_rsae_sha512';

/** IANA TLS SignatureScheme code points (RFC 8446 §4.2.3). */
export const SIGNATURE_SCHEME_CODES: Record<SignatureScheme, number> = {
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  ed25519: 0x0807,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pss_rsae_sha512: 0x0806,
};

const BY_CODE = new Map<number, SignatureScheme>(
  Object.entries(SIGNATURE_SCHEME_CODES).map(([name, code]) => [code, name as SignatureScheme]),
);

/** The scheme for a code point, or undefined for one Postern does not support. */
export function schemeFromCode(code: number): SignatureScheme | undefined {
  return BY_CODE.get(code);
}

export interface SigningKey {
  /** The schemes this key can sign with, in order of preference. */
  readonly schemes: readonly SignatureScheme[];
  sign(scheme: SignatureScheme, data: Uint8Array): Uint8Array;
}

/** What each scheme needs of a key, and how it signs (RFC 8446 §4.2.3). */
interface SchemeRule {
  keyType: 'ec' | 'ed25519' | 'rsa';
  /** For ECDSA: the curve, as node:crypto names it. */
  curve?: string;
  hash: 'sha256' | 'sha384' | 'sha512' | null;
}

const RULES: Record<SignatureScheme, SchemeRule> = {
  ecdsa_secp256r1_sha256: { keyType: 'ec', curve: 'prime256v1', hash: 'sha256' },
  ecdsa_secp384r1_sha384: { keyType: 'ec', curve: 'secp384r1', hash: 'sha384' },
  ed25519: { keyType: 'ed25519', hash: null },
  rsa_pss_rsae_sha256: { keyType: 'rsa', hash: 'sha256' },
  rsa_pss_rsae_sha384: { keyType: 'rsa', hash: 'sha384' },
  rsa_pss_rsae_sha512: { keyType: 'rsa', hash: 'sha512' },
};

const HASH_LENGTH = { sha256: 32, sha384: 48, sha512: 64 } as const;

/** RSA keys shorter than this are refused (NIST SP 800-131A). */
const MIN_RSA_BITS = 2048;

/** The schemes a key can serve, or why it cannot serve any. */
function schemesFor(key: KeyObject): SignatureScheme[] | string {
  const type = key.asymmetricKeyType;
  if (type === 'ed25519') return ['ed25519'];
  if (type === 'ec') {
    const curve = key.asymmetricKeyDetails?.namedCurve;
    const found = (Object.keys(RULES) as SignatureScheme[]).filter((s) => RULES[s].curve === curve);
    return found.length ? found : `unsupported EC curve ${curve ?? 'unknown'}`;
  }
  if (type === 'rsa') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS) return `RSA key of ${bits} bits is shorter than ${MIN_RSA_BITS}`;
    return ['rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384', 'rsa_pss_rsae_sha512'];
  }
  return `unsupported key type ${type ?? 'unknown'}`;
}

function signOptions(rule: SchemeRule, key: KeyObject) {
  if (rule.keyType === 'rsa') {
    // RFC 8446 §4.2.3: RSASSA-PSS, MGF1 with the same hash, salt as long as the digest.
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: HASH_LENGTH[rule.hash!] };
  }
  // ECDSA signatures travel DER-encoded (RFC 8446 §4.2.3, ECDSA-Sig-Value of RFC 3279).
  if (rule.keyType === 'ec') return { key, dsaEncoding: 'der' as const };
  return { key };
}

/** Load a PEM private key: PKCS#8 `PRIVATE KEY`, SEC1 `EC PRIVATE KEY`, PKCS#1 `RSA PRIVATE KEY`. */
export function loadSigningKey(privateKeyPem: string): SigningKey {
  let key: KeyObject;
  try {
    key = createPrivateKey({ key: privateKeyPem, format: 'pem' });
  } catch (err) {
    throw new CertificateError(`private key is not valid PEM: ${(err as Error).message}`, { cause: err });
  }
  const schemes = schemesFor(key);
  if (typeof schemes === 'string') throw new CertificateError(schemes);
  return {
    schemes,
    sign(scheme: SignatureScheme, data: Uint8Array): Uint8Array {
      if (!schemes.includes(scheme)) {
        throw new CertificateError(`this ${key.asymmetricKeyType} key cannot sign with ${scheme}`);
      }
      const rule = RULES[scheme];
      return new Uint8Array(sign(rule.hash, data, signOptions(rule, key)));
    },
  };
}

/**
 * Check `signature` over `data` with the public key of the certificate `certDer`. False when
 * the signature is wrong or the key does not fit the scheme (an RSA key offered for ECDSA,
 * a P-384 key for ecdsa_secp256r1_sha256: RFC 8446 §4.2.3 binds the curve to the scheme).
 * Throws CertificateError when the certificate itself cannot be parsed.
 */
export function verifySignature(
  certDer: Uint8Array,
  scheme: SignatureScheme,
  data: Uint8Array,
  signature: Uint8Array,
  options: { minRsaBits?: number } = {},
): boolean {
  let publicKey: KeyObject;
  try {
    publicKey = new X509Certificate(certDer).publicKey;
  } catch (err) {
    throw new CertificateError(`certificate cannot be parsed: ${(err as Error).message}`, { cause: err });
  }
  const rule = RULES[scheme];
  if (!rule || publicKey.asymmetricKeyType !== rule.keyType) return false;
  if (rule.curve && publicKey.asymmetricKeyDetails?.namedCurve !== rule.curve) return false;
  if (
    rule.keyType === 'rsa' &&
    (publicKey.asymmetricKeyDetails?.modulusLength ?? 0) < (options.minRsaBits ?? MIN_RSA_BITS)
  )
    return false;
  try {
    return verify(rule.hash, data, signOptions(rule, publicKey), signature);
  } catch {
    return false; // a malformed signature (bad DER, wrong length) is a failed verification
  }
}
