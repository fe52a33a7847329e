/**
 * Where things live under the store directory. Client-chosen names never appear as they
 * are: users get an encoded directory name, mailboxes and groups get numeric ids, and
 * Message-IDs are hashed.
 *
 *   accounts.json                     users, aliases, domains (atomic replace)
 *   tmp/                              spool files before they are linked into place
 *   users/<encoded user>/mailboxes.json, boxes/<id>/{log, writer.lock, msgs/<uid>.eml|.json}
 *   news/groups.json, news/groups/<id>/{log, writer.lock}, news/articles/<sha256>.{eml,json}
 *   queue/<id>.{eml,json}
 */
import { createHash } from 'node:crypto';
import { join } from 'node:path';

/**
 * A name as one safe path segment: only [a-z0-9_@+-] and non-leading dots pass; every other
 * byte (upper case included, for case-insensitive file systems) becomes %XX. So `..`, `/`,
 * NUL and control characters cannot walk out. Over-long names are cut and suffixed by a hash.
 */
export function encodeSegment(name: string): string {
  let out = '';
  for (const byte of Buffer.from(name, 'utf8')) {
    const c = String.fromCharCode(byte);
    const plain = /[a-z0-9_@+-]/.test(c) || (c === '.' && out.length > 0);
    out += plain ? c : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  if (out === '') out = '~'; // '~' is never produced by a non-empty name (except in the hash suffix)
  if (out.length > 180)
    out = `${out.slice(0, 120)}~${createHash('sha256').update(name).digest('hex').slice(0, 40)}`;
  return out;
}

export function hashName(name: string): string {
  return createHash('sha256').update(name, 'utf8').digest('hex');
}

export class Layout {
  constructor(readonly root: string) {}
  get tmp(): string {
    return join(this.root, 'tmp');
  }
  get accountsFile(): string {
    return join(this.root, 'accounts.json');
  }
  get usersDir(): string {
    return join(this.root, 'users');
  }
  /** `user` must already be canonical (see Accounts). */
  userDir(user: string): string {
    return join(this.root, 'users', encodeSegment(user));
  }
  get newsDir(): string {
    return join(this.root, 'news');
  }
  get queueDir(): string {
    return join(this.root, 'queue');
  }
}
