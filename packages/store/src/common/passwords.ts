/**
 * Password hashing for every backend (DESIGN.md, security stance): scrypt (RFC 7914) with a
 * random 16-byte salt, compared with timingSafeEqual. The stored form is
 * `scrypt$<salt b64>$<key b64>`, the same the fs backend has always written, so accounts
 * files stay readable whichever backend wrote them.
 */
import { randomBytes, scrypt, timingSafeEqual } from 'node:crypto';

/** RFC 7914 §2 parameters: N=2^14, r=8, p=1 costs ~16 MiB and tens of ms per check. */
const PARAMS = { N: 16384, r: 8, p: 1 } as const;
const KEY_BYTES = 32;
/** Used for unknown users, so a miss costs the same scrypt work as a hit. */
const DUMMY_SALT = randomBytes(16);

function derive(password: string, salt: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) =>
    scrypt(password.normalize('NFC'), salt, KEY_BYTES, PARAMS, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  return `scrypt$${salt.toString('base64')}$${(await derive(password, salt)).toString('base64')}`;
}

/**
 * Constant-time check. `stored` undefined (unknown user) or malformed still runs scrypt once
 * and answers false, so timing does not tell whether an account exists.
 */
export async function verifyPassword(password: string, stored: string | undefined): Promise<boolean> {
  const [scheme, salt, key] = stored?.split('$') ?? [];
  const valid = scheme === 'scrypt' && !!salt && !!key;
  const got = await derive(password, valid ? Buffer.from(salt, 'base64') : DUMMY_SALT);
  if (!valid) return false;
  const want = Buffer.from(key, 'base64');
  return want.length === got.length && timingSafeEqual(want, got);
}
