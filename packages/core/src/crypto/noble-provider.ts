/**
 * `noble` provider: pure-JS @noble/* primitives. Portable, and the only source of the
 * X25519MLKEM768 hybrid group (draft-ietf-tls-ecdhe-mlkem) on Node 20.
 */
import { sha256, sha384 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import { extract, expand } from '@noble/hashes/hkdf.js';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import { x25519 } from '@noble/curves/ed25519.js';
import { p256, p384 } from '@noble/curves/nist.js';
import { ml_kem768 } from '@noble/post-quantum/ml-kem.js';
import { randomBytes } from '@noble/hashes/utils.js';
import type {
  Aead,
  AeadName,
  CryptoProvider,
  HashName,
  IncrementalHash,
  KeyShareResponse,
  KeyShareSecret,
  NamedGroup,
} from './provider.js';
import { KeyExchangeError } from './provider.js';

const HASHES = { sha256, sha384 } as const;

class NobleIncrementalHash implements IncrementalHash {
  private readonly h: ReturnType<typeof sha256.create> | ReturnType<typeof sha384.create>;
  constructor(hash: HashName) {
    this.h = HASHES[hash].create();
  }
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digest(): Uint8Array {
    return this.h.clone().digest();
  }
}

class NobleAead implements Aead {
  readonly tagLength = 16;
  constructor(
    private readonly name: AeadName,
    private readonly key: Uint8Array,
  ) {}
  private cipher(nonce: Uint8Array, aad: Uint8Array) {
    return this.name === 'chacha20-poly1305'
      ? chacha20poly1305(this.key, nonce, aad)
      : gcm(this.key, nonce, aad);
  }
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return this.cipher(nonce, aad).encrypt(plaintext);
  }
  open(nonce: Uint8Array, aad: Uint8Array, data: Uint8Array): Uint8Array | null {
    if (data.length < 16) return null;
    try {
      return this.cipher(nonce, aad).decrypt(data);
    } catch {
      return null;
    }
  }
}

function x25519Share(seed: Uint8Array): KeyShareSecret {
  if (seed.length !== 32) throw new KeyExchangeError('x25519 needs a 32-byte private key');
  return {
    group: 'x25519',
    publicKey: x25519.getPublicKey(seed),
    complete: (peer) => x25519Agree(seed, peer),
  };
}

function x25519Agree(priv: Uint8Array, peer: Uint8Array): Uint8Array {
  if (peer.length !== 32) throw new KeyExchangeError('x25519 share must be 32 bytes');
  let secret: Uint8Array;
  try {
    secret = x25519.getSharedSecret(priv, peer);
  } catch {
    throw new KeyExchangeError('x25519 agreement failed');
  }
  // RFC 8446 §7.4.2: all-zero output means a low-order point.
  if (secret.every((b) => b === 0)) throw new KeyExchangeError('x25519 shared secret is all zeros');
  return secret;
}

function ecdhShare(group: 'secp256r1' | 'secp384r1', seed: Uint8Array): KeyShareSecret {
  const curve = group === 'secp256r1' ? p256 : p384;
  const len = group === 'secp256r1' ? 65 : 97;
  let publicKey: Uint8Array;
  try {
    publicKey = curve.getPublicKey(seed, false);
  } catch {
    throw new KeyExchangeError(`${group} private key out of range`);
  }
  return {
    group,
    publicKey,
    complete: (peer) => {
      if (peer.length !== len || peer[0] !== 4) throw new KeyExchangeError(`${group} share is malformed`);
      try {
        // The shared secret is the x-coordinate (RFC 8446 §7.4.2).
        return curve.getSharedSecret(seed, peer, true).subarray(1);
      } catch {
        throw new KeyExchangeError(`${group} share is not a point on the curve`);
      }
    },
  };
}

// X25519MLKEM768: client share = ek (1184) || x25519 (32); server share = ct (1088) || x25519 (32);
// secret = ML-KEM secret || X25519 secret (draft-ietf-tls-ecdhe-mlkem §3).
function hybridShare(seed: Uint8Array): KeyShareSecret {
  if (seed.length !== 96) throw new KeyExchangeError('X25519MLKEM768 needs a 96-byte seed');
  const kem = ml_kem768.keygen(seed.subarray(0, 64));
  const ecdh = x25519Share(seed.subarray(64));
  const publicKey = new Uint8Array(1184 + 32);
  publicKey.set(kem.publicKey, 0);
  publicKey.set(ecdh.publicKey, 1184);
  return {
    group: 'X25519MLKEM768',
    publicKey,
    complete: (peer) => {
      if (peer.length !== 1088 + 32)
        throw new KeyExchangeError('X25519MLKEM768 server share has the wrong length');
      const ss = ml_kem768.decapsulate(peer.subarray(0, 1088), kem.secretKey);
      return concat(ss, ecdh.complete(peer.subarray(1088)));
    },
  };
}

function hybridRespond(peer: Uint8Array, seed: Uint8Array): KeyShareResponse {
  if (peer.length !== 1184 + 32)
    throw new KeyExchangeError('X25519MLKEM768 client share has the wrong length');
  let enc: { cipherText: Uint8Array; sharedSecret: Uint8Array };
  try {
    enc = ml_kem768.encapsulate(peer.subarray(0, 1184), seed.subarray(0, 32));
  } catch {
    // FIPS 203 §7.2 encapsulation-key check failed.
    throw new KeyExchangeError('X25519MLKEM768 encapsulation key is invalid');
  }
  const ecdh = x25519Share(seed.subarray(64));
  return {
    publicKey: concat(enc.cipherText, ecdh.publicKey),
    sharedSecret: concat(enc.sharedSecret, ecdh.complete(peer.subarray(1184))),
  };
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

export class NobleCryptoProvider implements CryptoProvider {
  readonly name = 'noble';
  readonly groups: readonly NamedGroup[] = ['x25519', 'secp256r1', 'secp384r1', 'X25519MLKEM768'];

  randomBytes(length: number): Uint8Array {
    return randomBytes(length);
  }
  hashLength(hash: HashName): number {
    return HASHES[hash].outputLen;
  }
  hash(hash: HashName, data: Uint8Array): Uint8Array {
    return HASHES[hash](data);
  }
  createHash(hash: HashName): IncrementalHash {
    return new NobleIncrementalHash(hash);
  }
  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    return hmac(HASHES[hash], key, data);
  }
  hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
    return extract(HASHES[hash], ikm, salt.length ? salt : new Uint8Array(HASHES[hash].outputLen));
  }
  hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    return expand(HASHES[hash], prk, info, length);
  }
  aead(name: AeadName, key: Uint8Array): Aead {
    return new NobleAead(name, key);
  }
  generateKeyShare(group: NamedGroup, seed: Uint8Array): KeyShareSecret {
    switch (group) {
      case 'x25519':
        return x25519Share(seed);
      case 'secp256r1':
      case 'secp384r1':
        return ecdhShare(group, seed);
      case 'X25519MLKEM768':
        return hybridShare(seed);
    }
  }
  respondKeyShare(group: NamedGroup, peerShare: Uint8Array, seed: Uint8Array): KeyShareResponse {
    if (group === 'X25519MLKEM768') return hybridRespond(peerShare, seed);
    const own = this.generateKeyShare(group, seed);
    return { publicKey: own.publicKey, sharedSecret: own.complete(peerShare) };
  }
}
