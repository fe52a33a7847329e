/**
 * The primitives the TLS engine asks for. Two implementations (`node`: node:crypto/OpenSSL,
 * `noble`: pure-JS @noble/*) and a composite that takes each primitive from the fastest provider
 * that has it. Every operation that needs randomness takes its random bytes as input, so a caller
 * that injects the randomness (RFC 8448 traces, the provider differential test) gets identical
 * transcripts from either provider.
 */
export type HashName = 'sha256' | 'sha384';
export type AeadName = 'aes-128-gcm' | 'aes-256-gcm' | 'chacha20-poly1305';
export type NamedGroup = 'x25519' | 'secp256r1' | 'secp384r1' | 'X25519MLKEM768';

/** Incremental hash; `digest()` is non-destructive so a transcript can be read at any point. */
export interface IncrementalHash {
  update(data: Uint8Array): void;
  digest(): Uint8Array;
}

/** An AEAD keyed once per traffic secret (RFC 8446 §5.2); tag appended to the ciphertext. */
export interface Aead {
  readonly tagLength: number;
  seal(nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** Returns null when authentication fails. */
  open(nonce: Uint8Array, aad: Uint8Array, ciphertextAndTag: Uint8Array): Uint8Array | null;
  /**
   * Optional fast path for the record layer: seal `parts` (concatenated) with `aad`, and return
   * aad || ciphertext || tag in one buffer, so a 16 KiB record is copied once, not three times.
   */
  sealWithHeader?(nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[]): Uint8Array;
  /**
   * Optional fast path for large records: seal `parts` (concatenated) with `aad` and append the
   * ciphertext and then the tag to `out` as separate chunks, never copied together; the
   * concatenation of what was appended is exactly what `seal` returns. For writers that
   * gather chunks (writev), this saves a copy and an allocation of the whole record.
   */
  sealTo?(nonce: Uint8Array, aad: Uint8Array, parts: readonly Uint8Array[], out: Uint8Array[]): void;
}

/** The initiator's half of a key exchange (client side: its key_share entry). */
export interface KeyShareSecret {
  readonly group: NamedGroup;
  readonly publicKey: Uint8Array;
  /** Throws KeyExchangeError on a malformed or degenerate peer share. */
  complete(peerShare: Uint8Array): Uint8Array;
}

/** The responder's result (server side): its key_share and the shared secret. */
export interface KeyShareResponse {
  readonly publicKey: Uint8Array;
  readonly sharedSecret: Uint8Array;
}

export class KeyExchangeError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyExchangeError';
  }
}

export interface CryptoProvider {
  readonly name: string;
  randomBytes(length: number): Uint8Array;
  hashLength(hash: HashName): number;
  hash(hash: HashName, data: Uint8Array): Uint8Array;
  createHash(hash: HashName): IncrementalHash;
  hmac(hash: HashName, key: Uint8Array, data: Uint8Array): Uint8Array;
  hkdfExtract(hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array;
  hkdfExpand(hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array;
  aead(name: AeadName, key: Uint8Array): Aead;
  /** Groups this provider can do. */
  readonly groups: readonly NamedGroup[];
  /** Key share whose private part is derived from `seed` (length: `keyShareSeedLength`). */
  generateKeyShare(group: NamedGroup, seed: Uint8Array): KeyShareSecret;
  /** Respond to a peer's share; `seed` as for generateKeyShare (the KEM uses it for encapsulation). */
  respondKeyShare(group: NamedGroup, peerShare: Uint8Array, seed: Uint8Array): KeyShareResponse;
}

/** Random bytes each group consumes (private scalar, or ML-KEM seed + X25519 scalar). */
export function keyShareSeedLength(group: NamedGroup): number {
  switch (group) {
    case 'x25519':
    case 'secp256r1':
      return 32;
    case 'secp384r1':
      return 48;
    case 'X25519MLKEM768':
      return 64 + 32; // client: ML-KEM keygen seed d||z + X25519 scalar; server: 32-byte m + scalar
  }
}

/** Expected public-share lengths (RFC 8446 §4.2.8.2, draft-ietf-tls-ecdhe-mlkem §3). */
export function keyShareLength(group: NamedGroup, role: 'client' | 'server'): number {
  switch (group) {
    case 'x25519':
      return 32;
    case 'secp256r1':
      return 65;
    case 'secp384r1':
      return 97;
    case 'X25519MLKEM768':
      return role === 'client' ? 1184 + 32 : 1088 + 32;
  }
}
