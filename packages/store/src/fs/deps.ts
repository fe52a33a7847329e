/**
 * What the fs backend takes from the rest of the package (the indexer) and the account and
 * name rules it defines: scrypt password hashing with constant-time checks, the canonical
 * user form, and which mailbox, group, Message-ID and domain names are acceptable. The
 * memory backend uses the same rules from here, so both behave alike.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';
import { indexMessage } from '../indexer/index.js';
import { StoreError } from '../types.js';
import type { FsDeps } from './store.js';

function scryptAsync(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password, salt, 32, { N: 16384, r: 8, p: 1 }, (err, key) => (err ? reject(err) : resolve(key))),
  );
}

const DUMMY_SALT = randomBytes(16);

const CONTROL = /[\x00-\x1f\x7f]/;

/** Lower case, no trailing dot; refuses anything that is not a plain domain name. */
export function normalizeDomain(domain: string): string {
  const d = domain.trim().toLowerCase().replace(/\.$/, '');
  if (!d || /[\s/\\\0@]/.test(d) || CONTROL.test(d)) throw new StoreError('INVALID_NAME', 'invalid domain');
  return d;
}

export const fsDeps: FsDeps = {
  indexer: indexMessage,
  passwords: {
    async hash(password) {
      const salt = randomBytes(16);
      return `scrypt$${salt.toString('base64')}$${(await scryptAsync(password, salt)).toString('base64')}`;
    },
    async verify(password, hash) {
      const [, salt, key] = hash?.split('$') ?? [];
      const got = await scryptAsync(password, salt ? Buffer.from(salt, 'base64') : DUMMY_SALT);
      if (!key) return false;
      const want = Buffer.from(key, 'base64');
      return want.length === got.length && timingSafeEqual(want, got);
    },
  },
  naming: {
    canonicalUser: (u) => u.trim().toLowerCase(),
    validateUser(address) {
      if (!/^[^\s@]+@[^\s@]+$/.test(address) || CONTROL.test(address) || address.length > 254)
        throw new StoreError('INVALID_NAME', 'invalid address');
    },
    validateMailbox(name) {
      if (
        !name ||
        name.length > 512 ||
        CONTROL.test(name) ||
        name.startsWith('/') ||
        name.endsWith('/') ||
        name.includes('//')
      )
        throw new StoreError('INVALID_NAME', 'invalid mailbox name');
    },
    validateGroup(name) {
      if (!/^[A-Za-z0-9+_-]+(\.[A-Za-z0-9+_-]+)*$/.test(name) || name.length > 255)
        throw new StoreError('INVALID_NAME', 'invalid group name');
    },
    validateMessageId(id) {
      if (!/^<[^<>\s]+>$/.test(id) || id.length > 250 || CONTROL.test(id))
        throw new StoreError('INVALID_NAME', 'invalid Message-ID');
    },
    delimiter: '/',
  },
};
