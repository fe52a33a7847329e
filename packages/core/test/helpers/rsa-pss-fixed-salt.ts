/**
 * Test-only RSASSA-PSS with a caller-chosen salt, so that a randomized signature from a published
 * trace (RFC 8448 §3's CertificateVerify) can be reproduced byte for byte. Plain BigInt RSA
 * (RFC 8017 §5.2), EMSA-PSS encoding and decoding (RFC 8017 §9.1.1, §9.1.2) with MGF1 (§B.2.1).
 * Not constant time, not for production: a fixed salt defeats the point of PSS.
 */
import { createHash } from 'node:crypto';
import type { SignatureScheme, SigningKey } from '../../src/certs/signing.js';

/** The integers of an RSA private key (RFC 8017 §3.2), as the RFC 8448 §2 listing gives them. */
export interface RsaKey {
  readonly n: bigint;
  readonly e: bigint;
  readonly d: bigint;
  readonly p: bigint;
  readonly q: bigint;
  /** d mod (p-1), d mod (q-1), q^-1 mod p. */
  readonly dp: bigint;
  readonly dq: bigint;
  readonly qi: bigint;
}

type Hash = 'sha256' | 'sha384' | 'sha512';
const HASH_LEN: Record<Hash, number> = { sha256: 32, sha384: 48, sha512: 64 };
const SCHEME_HASH: Partial<Record<SignatureScheme, Hash>> = {
  rsa_pss_rsae_sha256: 'sha256',
  rsa_pss_rsae_sha384: 'sha384',
  rsa_pss_rsae_sha512: 'sha512',
};

const digest = (hash: Hash, ...parts: Uint8Array[]) => {
  const h = createHash(hash);
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};

/** OS2IP (RFC 8017 §4.2). */
export function os2ip(bytes: Uint8Array): bigint {
  return bytes.length === 0 ? 0n : BigInt(`0x${Buffer.from(bytes).toString('hex')}`);
}

/** I2OSP (RFC 8017 §4.1). */
export function i2osp(x: bigint, length: number): Uint8Array {
  const hex = x.toString(16).padStart(length * 2, '0');
  if (hex.length > length * 2) throw new Error('integer too large');
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function modPow(base: bigint, exponent: bigint, modulus: bigint): bigint {
  let result = 1n;
  let b = base % modulus;
  for (let e = exponent; e > 0n; e >>= 1n) {
    if (e & 1n) result = (result * b) % modulus;
    b = (b * b) % modulus;
  }
  return result;
}

export function bitLength(x: bigint): number {
  return x.toString(2).length;
}

/** The key as a JWK, for node:crypto's createPrivateKey. */
export function rsaKeyToJwk(key: RsaKey): {
  kty: 'RSA';
  n: string;
  e: string;
  d: string;
  p: string;
  q: string;
  dp: string;
  dq: string;
  qi: string;
} {
  const b64 = (x: bigint) => {
    const hex = x.toString(16);
    return Buffer.from(hex.length % 2 ? `0${hex}` : hex, 'hex').toString('base64url');
  };
  return {
    kty: 'RSA',
    n: b64(key.n),
    e: b64(key.e),
    d: b64(key.d),
    p: b64(key.p),
    q: b64(key.q),
    dp: b64(key.dp),
    dq: b64(key.dq),
    qi: b64(key.qi),
  };
}

/** MGF1 (RFC 8017 §B.2.1). */
function mgf1(hash: Hash, seed: Uint8Array, length: number): Uint8Array {
  const out = new Uint8Array(length);
  for (let counter = 0, off = 0; off < length; counter++) {
    const block = digest(hash, seed, i2osp(BigInt(counter), 4));
    out.set(block.subarray(0, Math.min(block.length, length - off)), off);
    off += block.length;
  }
  return out;
}

/** EMSA-PSS-ENCODE (RFC 8017 §9.1.1) of an already hashed message. */
export function emsaPssEncode(hash: Hash, mHash: Uint8Array, emBits: number, salt: Uint8Array): Uint8Array {
  const hLen = HASH_LEN[hash];
  const emLen = Math.ceil(emBits / 8);
  if (mHash.length !== hLen) throw new Error('mHash has the wrong length');
  if (emLen < hLen + salt.length + 2) throw new Error('encoding error');
  const h = digest(hash, new Uint8Array(8), mHash, salt);
  const db = new Uint8Array(emLen - hLen - 1);
  db[db.length - salt.length - 1] = 0x01;
  db.set(salt, db.length - salt.length);
  const mask = mgf1(hash, h, db.length);
  for (let i = 0; i < db.length; i++) db[i] ^= mask[i]!;
  db[0] &= 0xff >>> (8 * emLen - emBits);
  const em = new Uint8Array(emLen);
  em.set(db, 0);
  em.set(h, db.length);
  em[emLen - 1] = 0xbc;
  return em;
}

/**
 * EMSA-PSS-VERIFY (RFC 8017 §9.1.2) of an already hashed message, returning the salt it carries;
 * throws where the RFC says "inconsistent".
 */
export function emsaPssDecode(
  hash: Hash,
  mHash: Uint8Array,
  em: Uint8Array,
  emBits: number,
  saltLength = HASH_LEN[hash],
): Uint8Array {
  const hLen = HASH_LEN[hash];
  const emLen = Math.ceil(emBits / 8);
  if (em.length !== emLen || emLen < hLen + saltLength + 2) throw new Error('inconsistent: length');
  if (em[emLen - 1] !== 0xbc) throw new Error('inconsistent: trailer is not 0xbc');
  const maskedDb = em.subarray(0, emLen - hLen - 1);
  const h = em.subarray(emLen - hLen - 1, emLen - 1);
  const topBits = 0xff << (8 - (8 * emLen - emBits));
  if (maskedDb[0]! & topBits & 0xff) throw new Error('inconsistent: leftmost bits set');
  const mask = mgf1(hash, h, maskedDb.length);
  const db = maskedDb.map((b, i) => b ^ mask[i]!);
  db[0] &= 0xff >>> (8 * emLen - emBits);
  const psLen = emLen - hLen - saltLength - 2;
  for (let i = 0; i < psLen; i++) if (db[i] !== 0) throw new Error('inconsistent: padding is not zero');
  if (db[psLen] !== 0x01) throw new Error('inconsistent: no 0x01 separator');
  const salt = db.slice(db.length - saltLength);
  if (!Buffer.from(digest(hash, new Uint8Array(8), mHash, salt)).equals(h))
    throw new Error('inconsistent: H does not match');
  return salt;
}

/** RSAVP1 then EMSA-PSS-VERIFY: the salt inside a valid RSASSA-PSS signature over `message`. */
export function recoverPssSalt(
  key: Pick<RsaKey, 'n' | 'e'>,
  hash: Hash,
  message: Uint8Array,
  signature: Uint8Array,
): Uint8Array {
  const k = Math.ceil(bitLength(key.n) / 8);
  if (signature.length !== k) throw new Error('signature has the wrong length');
  const s = os2ip(signature);
  if (s >= key.n) throw new Error('signature representative out of range');
  const emBits = bitLength(key.n) - 1;
  const em = i2osp(modPow(s, key.e, key.n), Math.ceil(emBits / 8));
  return emsaPssDecode(hash, digest(hash, message), em, emBits);
}

/** RSASSA-PSS-SIGN (RFC 8017 §8.1.1) with the given salt; RSASP1 through the CRT (§5.1.2). */
export function signPssWithSalt(key: RsaKey, hash: Hash, message: Uint8Array, salt: Uint8Array): Uint8Array {
  const modBits = bitLength(key.n);
  const em = emsaPssEncode(hash, digest(hash, message), modBits - 1, salt);
  const m = os2ip(em);
  const m1 = modPow(m, key.dp, key.p);
  const m2 = modPow(m, key.dq, key.q);
  const h = ((((m1 - m2) % key.p) + key.p) * key.qi) % key.p;
  const s = m2 + h * key.q;
  // Fault check: the public operation must give the encoded message back.
  if (modPow(s, key.e, key.n) !== m) throw new Error('RSA private operation failed its check');
  return i2osp(s, Math.ceil(modBits / 8));
}

/**
 * A SigningKey (the engine's CertifiedKey.signingKey seam) that signs with the one RSA-PSS
 * scheme whose hash length equals the salt's, always with that salt.
 */
export function fixedSaltPssSigner(key: RsaKey, salt: Uint8Array): SigningKey {
  const schemes = (Object.keys(SCHEME_HASH) as SignatureScheme[]).filter(
    (s) => HASH_LEN[SCHEME_HASH[s]!] === salt.length,
  );
  if (schemes.length === 0) throw new Error(`no RSA-PSS scheme takes a ${salt.length}-byte salt`);
  return {
    schemes,
    sign(scheme, data) {
      const hash = SCHEME_HASH[scheme];
      if (!hash || !schemes.includes(scheme)) throw new Error(`fixed-salt signer cannot sign with ${scheme}`);
      return signPssWithSalt(key, hash, data, salt);
    },
  };
}
