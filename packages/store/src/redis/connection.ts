/**
 * The Redis connections of one store handle and the one place Redis errors become
 * StoreErrors. Commands fail fast while Redis is away (no offline queue, no resend of a
 * command whose reply was lost: a delivery script sent twice would deliver twice), and the
 * client reconnects by itself, so a restart costs the callers a temporary failure
 * ('UNAVAILABLE': SMTP 451, IMAP NO [UNAVAILABLE]) and nothing more.
 */
import { createHash } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { StoreError, type StoreErrorCode } from '../types.js';

/** Error codes our Lua scripts answer with (`redis.error_reply('NOT_FOUND no such mailbox')`). */
const SCRIPT_CODES = new Set<StoreErrorCode>([
  'EXISTS',
  'NOT_FOUND',
  'DUPLICATE',
  'INVALID_NAME',
  'LOCKED',
  'CORRUPT',
  'UNAVAILABLE',
]);

/** Reconnect backoff: 50 ms doubling up to 2 s, for ever (ioredis `retryStrategy`). */
function reconnectDelay(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 6), 2000);
}

export function connectionOptions(forSubscriber: boolean): RedisOptions {
  return {
    lazyConnect: true,
    connectTimeout: 5000,
    retryStrategy: reconnectDelay,
    // Fail fast while disconnected: a caller gets UNAVAILABLE now rather than a reply
    // minutes later to an SMTP client that has long gone. The subscriber keeps its queue so
    // that ioredis can resubscribe by itself after a reconnect.
    enableOfflineQueue: forSubscriber,
    maxRetriesPerRequest: forSubscriber ? null : 0,
    autoResendUnfulfilledCommands: false,
    autoResubscribe: true,
  };
}

/** Opens a connection to `url` (redis://host:port/db); UNAVAILABLE when Redis is not there. */
export async function openConnection(
  url: string,
  forSubscriber: boolean,
  onError: (err: Error) => void,
): Promise<Redis> {
  const redis = new Redis(url, connectionOptions(forSubscriber));
  // ioredis emits 'error' on every failed (re)connect; without a listener it would print
  // each one. A failure to open is thrown to the caller; later ones go to `onError` while
  // the client keeps retrying.
  const quiet = () => undefined;
  redis.on('error', quiet);
  try {
    await redis.connect();
  } catch (err) {
    redis.disconnect();
    throw toStoreError(err);
  }
  redis.off('error', quiet);
  redis.on('error', onError);
  return redis;
}

/**
 * Any error from a Redis call as a StoreError: our scripts' coded replies keep their code;
 * everything else (connection closed, not connected, LOADING, READONLY, MISCONF after a
 * failed write to disk) is temporary from the caller's side: UNAVAILABLE.
 */
export function toStoreError(err: unknown): StoreError {
  if (err instanceof StoreError) return err;
  const message = err instanceof Error ? err.message : String(err);
  const isReply = err instanceof Error && err.name === 'ReplyError';
  if (isReply) {
    const space = message.indexOf(' ');
    const code = (space > 0 ? message.slice(0, space) : message) as StoreErrorCode;
    // Redis 7 appends " script: <sha>, on @user_script:<line>." to errors a script raises.
    if (SCRIPT_CODES.has(code))
      return new StoreError(code, message.slice(space + 1).replace(/ script: .*$/s, ''));
    // maxmemory reached: no room to write, as a full disk is for the fs backend.
    if (code === ('OOM' as StoreErrorCode))
      return new StoreError('FULL', `redis: ${message}`, { cause: err });
  }
  return new StoreError('UNAVAILABLE', `redis: ${message}`, { cause: err });
}

/** Runs `fn`, turning whatever it throws into a StoreError. */
export async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toStoreError(err);
  }
}

/**
 * A Lua script run by EVALSHA, sent whole (EVAL) when the server does not know it yet, as
 * after a restart (Redis docs, "Scripting with Lua": the script cache is not persisted).
 * Every key a script touches shares the hash tag of KEYS[1], so it runs on Redis Cluster.
 */
export class LuaScript {
  readonly sha: string;

  constructor(
    readonly name: string,
    readonly source: string,
  ) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: Array<string | number | Buffer>): Promise<unknown> {
    return guarded(async () => {
      try {
        return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
      } catch (err) {
        if (err instanceof Error && err.message.startsWith('NOSCRIPT'))
          return await redis.eval(this.source, keys.length, ...keys, ...args);
        throw err;
      }
    });
  }
}
