/**
 * The default provider: each primitive from the fastest provider that has it. node:crypto
 * (OpenSSL) wins everything it implements; noble fills in X25519MLKEM768.
 */
import { NobleCryptoProvider } from './noble-provider.js';
import { NodeCryptoProvider } from './node-provider.js';
import type { CryptoProvider, KeyShareResponse, KeyShareSecret, NamedGroup } from './provider.js';

export function createCompositeProvider(fast: CryptoProvider, fallback: CryptoProvider): CryptoProvider {
  const pick = (group: NamedGroup) => (fast.groups.includes(group) ? fast : fallback);
  return {
    name: `${fast.name}+${fallback.name}`,
    groups: [...new Set([...fast.groups, ...fallback.groups])],
    randomBytes: (n) => fast.randomBytes(n),
    hashLength: (h) => fast.hashLength(h),
    hash: (h, d) => fast.hash(h, d),
    createHash: (h) => fast.createHash(h),
    hmac: (h, k, d) => fast.hmac(h, k, d),
    hkdfExtract: (h, s, i) => fast.hkdfExtract(h, s, i),
    hkdfExpand: (h, p, i, l) => fast.hkdfExpand(h, p, i, l),
    aead: (name, key) => fast.aead(name, key),
    generateKeyShare: (group, seed): KeyShareSecret => pick(group).generateKeyShare(group, seed),
    respondKeyShare: (group, peer, seed): KeyShareResponse => pick(group).respondKeyShare(group, peer, seed),
  };
}

export const nodeProvider: CryptoProvider = new NodeCryptoProvider();
export const nobleProvider: CryptoProvider = new NobleCryptoProvider();
export const defaultProvider: CryptoProvider = createCompositeProvider(nodeProvider, nobleProvider);
