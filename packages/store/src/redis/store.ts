/**
 * The Redis backend: one store shared by a fleet of `postern serve` processes
 * (`--store redis://host:port/db`). Two connections per handle: one for commands and
 * scripts, one subscribed to the change feed. See README.md, "The Redis backend", for the
 * key layout and what an acknowledged write guarantees under each persistence setting.
 */
import type { Redis } from 'ioredis';
import type { Store } from '../types.js';
import { StoreError } from '../types.js';
import { RedisAccounts } from './accounts.js';
import { openConnection } from './connection.js';
import { RedisFeed } from './feed.js';
import { DEFAULT_PREFIX, RedisKeys, checkPrefix } from './keys.js';
import { RedisMailStore } from './mail.js';
import { RedisNewsStore } from './news.js';
import { RedisQueue } from './queue.js';

export interface RedisStoreOptions {
  /**
   * Domains to add at open (as the other backends' `domains`); they stay local for this
   * handle's life even if Redis loses them.
   */
  domains?: string[];
  /** Key prefix, default 'postern': several independent stores can share one Redis. */
  prefix?: string;
  /**
   * Told of connection trouble (each failed reconnect, a malformed feed message). Default:
   * one process warning per outage, never an 'error' event nobody listens to.
   */
  onError?: (err: Error) => void;
}

export class RedisStore implements Store {
  readonly kind = 'redis' as const;
  readonly accounts: RedisAccounts;
  readonly mail: RedisMailStore;
  readonly news: RedisNewsStore;
  readonly queue: RedisQueue;
  private closed = false;

  private constructor(
    private readonly redis: Redis,
    private readonly subscriber: Redis,
    private readonly feed: RedisFeed,
    keys: RedisKeys,
    domains: readonly string[],
  ) {
    const ctx = { redis, keys, feed };
    this.mail = new RedisMailStore(ctx);
    this.accounts = new RedisAccounts(ctx, this.mail, domains);
    this.news = new RedisNewsStore(ctx);
    this.queue = new RedisQueue(ctx);
  }

  static async open(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
    if (!/^rediss?:\/\//i.test(url)) throw new StoreError('INVALID_NAME', `not a redis:// URL: ${url}`);
    const keys = new RedisKeys(checkPrefix(options.prefix ?? DEFAULT_PREFIX));
    const onError = options.onError ?? warnOncePerOutage();
    const redis = await openConnection(url, false, onError);
    let subscriber: Redis | undefined;
    try {
      subscriber = await openConnection(url, true, onError);
      const feed = await RedisFeed.open(subscriber, keys.feedChannel, (err) =>
        onError(err instanceof Error ? err : new Error(String(err))),
      );
      const store = new RedisStore(redis, subscriber, feed, keys, options.domains ?? []);
      await store.accounts.open();
      return store;
    } catch (err) {
      redis.disconnect();
      subscriber?.disconnect();
      throw err instanceof StoreError
        ? err
        : new StoreError('UNAVAILABLE', `redis: ${(err as Error).message}`, { cause: err });
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.feed.close();
    // QUIT lets Redis answer what is in flight; disconnect() when Redis is not there to answer.
    await Promise.all([this.redis, this.subscriber].map((c) => c.quit().catch(() => c.disconnect())));
  }
}

export function openRedisStore(url: string, options: RedisStoreOptions = {}): Promise<RedisStore> {
  return RedisStore.open(url, options);
}

/** The default `onError`: one warning when Redis goes away, none for each retry after it. */
function warnOncePerOutage(): (err: Error) => void {
  let warnedAt = 0;
  return (err) => {
    const now = Date.now();
    if (now - warnedAt < 60_000) return;
    warnedAt = now;
    process.emitWarning(`redis store: ${err.message} (retrying)`, 'PosternStoreWarning');
  };
}
