/**
 * The TLS 1.2 pseudorandom function and what is derived with it: the extended master secret
 * (RFC 7627 §4), the key block (RFC 5246 §6.3), Finished verify_data (RFC 5246 §7.4.9) and
 * keying material exporters (RFC 5705 §4). HMAC comes from the crypto provider.
 */
import type { CryptoProvider, HashName } from '../crypto/provider.js';
import { concatBytes } from './codec.js';
import type { Tls12Suite } from './tls12-suites.js';

const latin1 = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));

/** RFC 5246 §5: P_hash(secret, seed) = HMAC(secret, A(1) + seed) + HMAC(secret, A(2) + seed) + … */
export function pHash(
  provider: CryptoProvider,
  hash: HashName,
  secret: Uint8Array,
  seed: Uint8Array,
  length: number,
): Uint8Array {
  const out = new Uint8Array(length);
  let a = seed; // A(0)
  for (let off = 0; off < length;) {
    a = provider.hmac(hash, secret, a); // A(i) = HMAC(secret, A(i-1))
    const block = provider.hmac(hash, secret, concatBytes([a, seed]));
    const n = Math.min(block.length, length - off);
    out.set(block.subarray(0, n), off);
    off += n;
  }
  return out;
}

/** RFC 5246 §5: PRF(secret, label, seed) = P_<hash>(secret, label + seed). */
export function prf(
  provider: CryptoProvider,
  hash: HashName,
  secret: Uint8Array,
  label: string,
  seed: Uint8Array,
  length: number,
): Uint8Array {
  return pHash(provider, hash, secret, concatBytes([latin1(label), seed]), length);
}

/** RFC 7627 §4: master_secret = PRF(pre_master_secret, "extended master secret", session_hash)[0..47]. */
export function extendedMasterSecret(
  provider: CryptoProvider,
  suite: Tls12Suite,
  preMaster: Uint8Array,
  sessionHash: Uint8Array,
): Uint8Array {
  return prf(provider, suite.hash, preMaster, 'extended master secret', sessionHash, 48);
}

export interface Tls12TrafficKeys {
  readonly key: Uint8Array;
  /** GCM: the 4-byte salt (RFC 5288 §3); ChaCha20: the 12-byte IV (RFC 7905 §2). */
  readonly iv: Uint8Array;
}

/**
 * RFC 5246 §6.3: key_block = PRF(master_secret, "key expansion", server_random + client_random),
 * cut into client/server MAC keys (none for AEAD suites), write keys, then write IVs.
 */
export function keyBlock(
  provider: CryptoProvider,
  suite: Tls12Suite,
  masterSecret: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
): { client: Tls12TrafficKeys; server: Tls12TrafficKeys } {
  const k = suite.keyLength;
  const iv = suite.fixedIvLength;
  const block = prf(
    provider,
    suite.hash,
    masterSecret,
    'key expansion',
    concatBytes([serverRandom, clientRandom]),
    2 * k + 2 * iv,
  );
  return {
    client: { key: block.slice(0, k), iv: block.slice(2 * k, 2 * k + iv) },
    server: { key: block.slice(k, 2 * k), iv: block.slice(2 * k + iv, 2 * k + 2 * iv) },
  };
}

/** RFC 5246 §7.4.9: verify_data = PRF(master_secret, finished_label, Hash(handshake_messages))[0..11]. */
export function finishedVerifyData12(
  provider: CryptoProvider,
  suite: Tls12Suite,
  masterSecret: Uint8Array,
  role: 'client' | 'server',
  transcriptHash: Uint8Array,
): Uint8Array {
  return prf(provider, suite.hash, masterSecret, `${role} finished`, transcriptHash, 12);
}

/**
 * RFC 5705 §4: PRF(master_secret, label, client_random + server_random [+ context_length + context]).
 * An absent context and an empty one differ here (unlike TLS 1.3, RFC 8446 §7.5).
 */
export function exportKeyingMaterial12(
  provider: CryptoProvider,
  suite: Tls12Suite,
  masterSecret: Uint8Array,
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  label: string,
  context: Uint8Array | undefined,
  length: number,
): Uint8Array {
  // RFC 5705 §4: labels the key schedule itself uses must not be exported.
  if (/^(client finished|server finished|master secret|key expansion|extended master secret)$/.test(label)) {
    throw new Error(`exporter label '${label}' is reserved`);
  }
  const parts = [clientRandom, serverRandom];
  if (context !== undefined) {
    if (context.length > 0xffff) throw new RangeError('exporter context longer than 65535 bytes');
    parts.push(Uint8Array.of(context.length >> 8, context.length & 0xff), context);
  }
  return prf(provider, suite.hash, masterSecret, label, concatBytes(parts), length);
}
