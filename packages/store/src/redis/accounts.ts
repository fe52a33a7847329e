/**
 * Accounts on Redis, so every process of a fleet sees the same users: `{accounts}:users`
 * (canonical address → scrypt hash), `{accounts}:aliases` (alias → target) and
 * `{accounts}:domains`. The rules are the shared ones (src/common: names, scrypt, constant
 * time); the scripts make "is this address free" and "take it" one step.
 */
import {
  DEFAULT_MAILBOXES,
  canonicalUser,
  hashPassword,
  normalizeDomain,
  validateUser,
  verifyPassword,
} from '../common/index.js';
import { StoreError, type Accounts } from '../types.js';
import { LuaScript, guarded } from './connection.js';
import type { RedisContext } from './context.js';
import type { RedisMailStore } from './mail.js';

/** Alias chains longer than this (or loops) resolve to nobody, as in the other backends. */
const LOST = 'UNAVAILABLE the redis store has lost its accounts (emptied or replaced); try again later';

const MAX_ALIAS_HOPS = 8;

// KEYS[1] users, KEYS[2] aliases (one slot: {accounts}).
const ADD_USER = new LuaScript(
  'accounts.addUser',
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 then
  return redis.error_reply('EXISTS user exists')
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`,
);

/** Aliases pointing at the user go with it: they would otherwise deliver to a later namesake. */
const DELETE_USER = new LuaScript(
  'accounts.deleteUser',
  `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 0 then return 0 end
local all = redis.call('HGETALL', KEYS[2])
for i = 1, #all, 2 do
  if all[i + 1] == ARGV[1] then redis.call('HDEL', KEYS[2], all[i]) end
end
return 1
`,
);

const SET_PASSWORD = new LuaScript(
  'accounts.setPassword',
  `
if redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return redis.error_reply('NOT_FOUND no such user') end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`,
);

const ADD_ALIAS = new LuaScript(
  'accounts.addAlias',
  `
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 1 or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 1 then
  return redis.error_reply('EXISTS address in use')
end
redis.call('HSET', KEYS[2], ARGV[1], ARGV[2])
return 1
`,
);

/**
 * ARGV[1] address, ARGV[2] max hops: the user it is delivered to, or nil. KEYS[3] is the birth
 * mark: nobody found in a store that has lost its data is not "no such user" but "cannot
 * tell now", so mail for it gets a 4xx and is retried instead of bounced (issue 19, item 8).
 */
const RESOLVE = new LuaScript(
  'accounts.resolve',
  `
local current = ARGV[1]
for hop = 0, tonumber(ARGV[2]) do
  if redis.call('HEXISTS', KEYS[1], current) == 1 then return current end
  current = redis.call('HGET', KEYS[2], current)
  if not current then break end
end
if redis.call('EXISTS', KEYS[3]) == 0 then return redis.error_reply('${LOST}') end
return nil
`,
);

export class RedisAccounts implements Accounts {
  /** Domains given at start-up: local for this handle's life, whatever Redis holds or lost. */
  private readonly pinned: Set<string>;

  constructor(
    private readonly ctx: RedisContext,
    private readonly mail: RedisMailStore,
    pinnedDomains: readonly string[] = [],
  ) {
    this.pinned = new Set(pinnedDomains.map(normalizeDomain));
  }

  /** At open: the birth mark (kept if there), then the pinned domains. */
  async open(): Promise<void> {
    await guarded(() => this.ctx.redis.set(this.ctx.keys.birth, new Date().toISOString(), 'NX'));
    for (const d of this.pinned) await this.addDomain(d);
  }

  /** UNAVAILABLE when Redis no longer holds the store (see RESOLVE). */
  private async checkNotLost(): Promise<void> {
    if ((await guarded(() => this.ctx.redis.exists(this.ctx.keys.birth))) === 0)
      throw new StoreError('UNAVAILABLE', LOST.slice(LOST.indexOf(' ') + 1));
  }

  private get pair(): string[] {
    return [this.ctx.keys.users, this.ctx.keys.aliases];
  }

  async addUser(address: string, password: string): Promise<void> {
    validateUser(address);
    const user = canonicalUser(address);
    const hash = await hashPassword(password);
    await ADD_USER.run(this.ctx.redis, this.pair, [user, hash]);
    try {
      await this.mail.provision(user, DEFAULT_MAILBOXES);
    } catch (err) {
      // Not left half made: without its mailboxes the user is taken back (best effort: if
      // Redis is gone, so is the chance, and the next addUser answers EXISTS).
      await DELETE_USER.run(this.ctx.redis, this.pair, [user]).catch(() => undefined);
      throw err;
    }
  }

  async deleteUser(address: string): Promise<boolean> {
    const user = canonicalUser(address);
    if ((await DELETE_USER.run(this.ctx.redis, this.pair, [user])) === 0) return false;
    await this.mail.remove(user);
    return true;
  }

  async setPassword(address: string, password: string): Promise<void> {
    const user = canonicalUser(address);
    await SET_PASSWORD.run(this.ctx.redis, this.pair, [user, await hashPassword(password)]);
  }

  async listUsers(): Promise<string[]> {
    return (await guarded(() => this.ctx.redis.hkeys(this.ctx.keys.users))).sort();
  }

  async hasUser(address: string): Promise<boolean> {
    return (await guarded(() => this.ctx.redis.hexists(this.ctx.keys.users, canonicalUser(address)))) === 1;
  }

  async verifyPassword(address: string, password: string): Promise<boolean> {
    const stored = await guarded(() => this.ctx.redis.hget(this.ctx.keys.users, canonicalUser(address)));
    // The same scrypt work for an unknown user (constant time, DESIGN.md security stance).
    const ok = await verifyPassword(password, stored ?? undefined);
    // A login refused because Redis lost the user is a temporary failure, not a wrong password.
    if (stored === null) await this.checkNotLost();
    return ok;
  }

  async addAlias(alias: string, target: string): Promise<void> {
    validateUser(alias);
    validateUser(target);
    await ADD_ALIAS.run(this.ctx.redis, this.pair, [canonicalUser(alias), canonicalUser(target)]);
  }

  async removeAlias(alias: string): Promise<boolean> {
    return (await guarded(() => this.ctx.redis.hdel(this.ctx.keys.aliases, canonicalUser(alias)))) === 1;
  }

  async listAliases(): Promise<Array<{ alias: string; target: string }>> {
    const all = await guarded(() => this.ctx.redis.hgetall(this.ctx.keys.aliases));
    return Object.entries(all)
      .map(([alias, target]) => ({ alias, target }))
      .sort((x, y) => (x.alias < y.alias ? -1 : x.alias > y.alias ? 1 : 0));
  }

  async resolve(address: string): Promise<string | undefined> {
    const user = await RESOLVE.run(
      this.ctx.redis,
      [...this.pair, this.ctx.keys.birth],
      [canonicalUser(address), MAX_ALIAS_HOPS],
    );
    return typeof user === 'string' ? user : undefined;
  }

  async addDomain(domain: string): Promise<void> {
    const d = normalizeDomain(domain);
    await guarded(() => this.ctx.redis.sadd(this.ctx.keys.domains, d));
  }

  async removeDomain(domain: string): Promise<boolean> {
    const d = normalizeDomain(domain);
    return (await guarded(() => this.ctx.redis.srem(this.ctx.keys.domains, d))) === 1;
  }

  async listDomains(): Promise<string[]> {
    const held = await guarded(() => this.ctx.redis.smembers(this.ctx.keys.domains));
    return [...new Set([...held, ...this.pinned])].sort();
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    const d = normalizeDomain(domain);
    if (this.pinned.has(d)) return true;
    return (await guarded(() => this.ctx.redis.sismember(this.ctx.keys.domains, d))) === 1;
  }
}
