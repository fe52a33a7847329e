/**
 * `node` provider: node:crypto (OpenSSL). The fastest for everything it has; it lacks ML-KEM on
 * Node 20, so the hybrid group comes from `noble`.
 */
import * as crypto from 'node:crypto';
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

const HASH_LENGTH: Record<HashName, number> = { sha256: 32, sha384: 48 };
const EMPTY = new Uint8Array(0);

class NodeIncrementalHash implements IncrementalHash {
  constructor(private readonly h: crypto.Hash) {}
  update(data: Uint8Array): void {
    this.h.update(data);
  }
  digest(): Uint8Array {
    return this.h.copy().digest();
  }
}

/** Uses of a key after which it becomes a KeyObject (see NodeAead.key). */
const KEY_OBJECT_AFTER_USES = 4;

class NodeAead implements Aead {
  readonly tagLength = 16;
  private uses = 0;
  private keyObject: crypto.KeyObject | undefined;
  constructor(
    private readonly cipher: crypto.CipherGCMTypes | 'chacha20-poly1305',
    private readonly rawKey: Uint8Array,
  ) {}

  /**
   * A KeyObject saves ~0.5 µs per record but costs ~9 µs to make: handshake keys protect a
   * record or two, so a key becomes one only once it has been used a few times.
   */
  private get key(): crypto.KeyObject | Uint8Array {
    if (this.keyObject) return this.keyObject;
    if (++this.uses < KEY_OBJECT_AFTER_USES) return this.rawKey;
    this.keyObject = crypto.createSecretKey(this.rawKey);
    return this.keyObject;
  }
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    const c = crypto.createCipheriv(this.cipher as crypto.CipherGCMTypes, this.key, nonce, {
      authTagLength: 16,
    });
    c.setAAD(aad);
    const out = Buffer.allocUnsafe(plaintext.length + 16);
    const body = c.update(plaintext);
    body.copy(out, 0);
    c.final();
    c.getAuthTag().copy(out, plaintext.length);
    return out;
  }
  sealWithHeader(nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[]): Uint8Array {
    const c = crypto.createCipheriv(this.cipher as crypto.CipherGCMTypes, this.key, nonce, {
      authTagLength: 16,
    });
    c.setAAD(aad);
    // One update per part: each crossing into OpenSSL costs more than copying a small record.
    const pieces: Buffer[] = [aad as Buffer];
    for (const p of parts) pieces.push(c.update(p));
    c.final(); // GCM and ChaCha20-Poly1305 are stream modes: final() yields no bytes
    pieces.push(c.getAuthTag());
    return Buffer.concat(pieces);
  }
  sealTo(nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array[]): void {
    const c = crypto.createCipheriv(this.cipher as crypto.CipherGCMTypes, this.key, nonce, {
      authTagLength: 16,
    });
    c.setAAD(aad);
    for (const p of parts) {
      const ct = c.update(p);
      if (ct.length > 0) out.push(ct);
    }
    c.final();
    out.push(c.getAuthTag());
  }
  open(nonce: Uint8Array, aad: Uint8Array, data: Uint8Array): Uint8Array | null {
    if (data.length < 16) return null;
    const d = crypto.createDecipheriv(this.cipher as crypto.CipherGCMTypes, this.key, nonce, {
      authTagLength: 16,
    });
    d.setAAD(aad);
    d.setAuthTag(data.subarray(data.length - 16));
    const body = d.update(data.subarray(0, data.length - 16));
    try {
      d.final();
    } catch {
      return null;
    }
    return body;
  }
}

// Raw X25519 keys go in and out as JWK: OpenSSL 3's DER decoders cost ~0.4 ms per private key
// and ~80 µs per public key, JWK import ~35 µs and ~6 µs — most of a handshake's key exchange.
// For a private OKP JWK, node uses `d` alone and derives the public key from it.
const b64url = (bytes: Uint8Array) =>
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64url');

function x25519Private(seed: Uint8Array): crypto.KeyObject {
  if (seed.length !== 32) throw new KeyExchangeError('x25519 needs a 32-byte private key');
  return crypto.createPrivateKey({
    key: { kty: 'OKP', crv: 'X25519', d: b64url(seed), x: '' },
    format: 'jwk',
  });
}

function x25519Agree(priv: crypto.KeyObject, peer: Uint8Array): Uint8Array {
  if (peer.length !== 32) throw new KeyExchangeError('x25519 share must be 32 bytes');
  let secret: Buffer;
  try {
    const pub = crypto.createPublicKey({
      key: { kty: 'OKP', crv: 'X25519', x: b64url(peer) },
      format: 'jwk',
    });
    secret = crypto.diffieHellman({ privateKey: priv, publicKey: pub });
  } catch {
    throw new KeyExchangeError('x25519 agreement failed');
  }
  // RFC 8446 §7.4.2: an all-zero shared secret means a low-order point; abort.
  if (secret.every((b) => b === 0)) throw new KeyExchangeError('x25519 shared secret is all zeros');
  return secret;
}

export function nodeX25519Share(seed: Uint8Array): KeyShareSecret {
  const priv = x25519Private(seed);
  const jwk = priv.export({ format: 'jwk' });
  return {
    group: 'x25519',
    publicKey: new Uint8Array(Buffer.from(jwk.x!, 'base64url')),
    complete: (peer) => x25519Agree(priv, peer),
  };
}

const CURVE: Record<'secp256r1' | 'secp384r1', { name: string; len: number }> = {
  secp256r1: { name: 'prime256v1', len: 65 },
  secp384r1: { name: 'secp384r1', len: 97 },
};

function ecdhShare(group: 'secp256r1' | 'secp384r1', seed: Uint8Array): KeyShareSecret {
  const ecdh = crypto.createECDH(CURVE[group].name);
  try {
    ecdh.setPrivateKey(seed);
  } catch {
    throw new KeyExchangeError(`${group} private key out of range`);
  }
  return {
    group,
    publicKey: ecdh.getPublicKey(),
    complete: (peer) => {
      // RFC 8446 §4.2.8.2: only the uncompressed form is legal.
      if (peer.length !== CURVE[group].len || peer[0] !== 4)
        throw new KeyExchangeError(`${group} share is malformed`);
      try {
        return ecdh.computeSecret(peer);
      } catch {
        throw new KeyExchangeError(`${group} share is not a point on the curve`);
      }
    },
  };
}

const RANDOM_POOL_SIZE = 4096;
let randomPool = Buffer.alloc(0);
let randomPoolAt = 0;

export class NodeCryptoProvider implements CryptoProvider {
  readonly name = 'node';
  readonly groups: readonly NamedGroup[] = ['x25519', 'secp256r1', 'secp384r1'];

  randomBytes(length: number): Uint8Array {
    if (length > RANDOM_POOL_SIZE / 8) return crypto.randomBytes(length);
    // Small draws come from a pool refilled by the CSPRNG: a handshake makes several, and one
    // call into OpenSSL costs 2–15 µs however few bytes it returns. Bytes are handed out once.
    if (randomPoolAt + length > randomPool.length) {
      randomPool = crypto.randomBytes(RANDOM_POOL_SIZE);
      randomPoolAt = 0;
    }
    const out = new Uint8Array(randomPool.subarray(randomPoolAt, randomPoolAt + length)); // a copy
    randomPool.fill(0, randomPoolAt, randomPoolAt + length);
    randomPoolAt += length;
    return out;
  }
  hashLength(hash: HashName): number {
    return HASH_LENGTH[hash];
  }
  hash(hash: HashName, data: Uint8Array): Uint8Array {
    return crypto.createHash(hash).update(data).digest();
  }
  createHash(hash: HashName): IncrementalHash {
    return new NodeIncrementalHash(crypto.createHash(hash));
  }
  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array {
    return crypto.createHmac(hash, key).update(data).digest();
  }
  hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
    // RFC 5869 §2.2: an absent salt is HashLen zeros; HMAC pads short keys identically anyway.
    return this.hmac(hash, salt.length ? salt : new Uint8Array(HASH_LENGTH[hash]), ikm);
  }
  hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    // RFC 5869 §2.3, done by hand: node's hkdfSync always extracts first.
    const n = HASH_LENGTH[hash];
    const out = Buffer.allocUnsafe(length);
    let prev: Uint8Array = EMPTY;
    for (let i = 0, off = 0; off < length; i++) {
      prev = crypto
        .createHmac(hash, prk)
        .update(prev)
        .update(info)
        .update(Uint8Array.of(i + 1))
        .digest();
      Buffer.from(prev.buffer, prev.byteOffset, Math.min(n, length - off)).copy(out, off);
      off += n;
    }
    return out;
  }
  aead(name: AeadName, key: Uint8Array): Aead {
    return new NodeAead(name === 'chacha20-poly1305' ? 'chacha20-poly1305' : name, key);
  }
  generateKeyShare(group: NamedGroup, seed: Uint8Array): KeyShareSecret {
    switch (group) {
      case 'x25519':
        return nodeX25519Share(seed);
      case 'secp256r1':
      case 'secp384r1':
        return ecdhShare(group, seed);
      default:
        throw new KeyExchangeError(`node provider has no ${group}`);
    }
  }
  respondKeyShare(group: NamedGroup, peerShare: Uint8Array, seed: Uint8Array): KeyShareResponse {
    const own = this.generateKeyShare(group, seed);
    return { publicKey: own.publicKey, sharedSecret: own.complete(peerShare) };
  }
}
