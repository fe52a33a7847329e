/**
 * Redis key names. Client-chosen names never become keys as they are (DESIGN.md): users and
 * groups are encoded with `encodeNameForPath` (no braces, spaces or controls can survive it),
 * Message-IDs are hashed, mailboxes live under numeric ids.
 *
 * Every key carries a hash tag (the part in braces; Redis Cluster spec, "Hash tags") so that
 * each Lua script touches one slot only:
 *   {accounts}   users, aliases, domains, and the store's birth mark
 *   {u:<user>}   one user's mailboxes, messages and bodies (rename, copy, move stay atomic)
 *   {news}       every group and article (a cross-post numbers all its groups atomically)
 *   {queue}      the outbound queue
 */
import { createHash } from 'node:crypto';
import { encodeNameForPath } from '../common/index.js';
import { StoreError } from '../types.js';

export const DEFAULT_PREFIX = 'postern';

/** A prefix is ours, not a client's: plain characters, no braces (they would move the hash tag). */
export function checkPrefix(prefix: string): string {
  if (!/^[A-Za-z0-9_:.-]{1,64}$/.test(prefix))
    throw new StoreError('INVALID_NAME', `bad redis key prefix '${prefix}'`);
  return prefix;
}

export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** The one pub/sub channel of the change feed (PUBLISH reaches every node of a Cluster). */
  get feedChannel(): string {
    return `${this.prefix}:feed`;
  }

  // ---- {accounts} ----
  get accounts(): string {
    return `${this.prefix}:{accounts}:`;
  }
  get users(): string {
    return `${this.accounts}users`;
  }
  get aliases(): string {
    return `${this.accounts}aliases`;
  }
  get domains(): string {
    return `${this.accounts}domains`;
  }
  /**
   * Set (if absent) by every handle that opens the store: its absence means the Redis we talk
   * to has lost what it held (FLUSHALL, a restart without persistence, an empty replacement).
   */
  get birth(): string {
    return `${this.accounts}born`;
  }

  // ---- {u:<user>}: scripts derive the per-mailbox keys from this prefix ----
  /**
   * `<prefix>:{u:<encoded user>}:` — then `boxes` (name → id), `box:<id>` (facts),
   * `uids:<id>`, `mods:<id>`, `meta:<id>`, `unseen:<id>`, `deleted:<id>`, `lock:<id>`,
   * `blob:<blob>` (index, size, refs), `body:<blob>` (the bytes) and `subskept` (subscriptions
   * of deleted mailboxes).
   */
  user(canonicalUser: string): string {
    return `${this.prefix}:{u:${encodeNameForPath(canonicalUser)}}:`;
  }

  // ---- {news} ----
  get news(): string {
    return `${this.prefix}:{news}:`;
  }
  /** The key part of a group: its encoded name. */
  group(name: string): string {
    return encodeNameForPath(name);
  }
  /** The key part of an article: the SHA-256 of its Message-ID. */
  article(messageId: string): string {
    return createHash('sha256').update(messageId, 'utf8').digest('hex');
  }

  // ---- {queue} ----
  get queue(): string {
    return `${this.prefix}:{queue}:`;
  }
}
