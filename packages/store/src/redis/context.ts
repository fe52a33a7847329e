/** What every part of the Redis backend shares: the command connection, key names, the feed. */
import type { Redis } from 'ioredis';
import type { RedisFeed } from './feed.js';
import type { RedisKeys } from './keys.js';

export interface RedisContext {
  /** Commands and scripts (never in subscriber mode). */
  readonly redis: Redis;
  readonly keys: RedisKeys;
  readonly feed: RedisFeed;
}
