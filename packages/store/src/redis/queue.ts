/**
 * The outbound queue on Redis, in the `{queue}` slot: `item:<id>` hash (envelope, pending,
 * attempts, created, next, error, state, size, lease), `body:<id>` the message, `all` zset
 * (ids by creation) and `due` zset: a queued item scored by its next attempt, a leased one
 * by the end of its lease. A claim takes what is due and re-scores it to its lease end, so
 * the claims of a process that died become due again when their leases run out and another
 * process retries them; a failed item leaves `due`.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { readSource } from '../common/index.js';
import { StoreError } from '../types.js';
import type { MessageSource, Queue, QueueEnvelope, QueueItem } from '../types.js';
import { bodyStream } from './body-stream.js';
import { LuaScript, guarded } from './connection.js';
import type { RedisContext } from './context.js';

// KEYS[1] = `<queue prefix>all`; ARGV[1] = the queue prefix.
const PRELUDE = `
local Q = ARGV[1]
local function requireItem(id)
  if redis.call('EXISTS', Q .. 'item:' .. id) == 0 then error({err = 'NOT_FOUND no such queue item'}) end
end
`;
const script = (name: string, body: string) => new LuaScript(`queue.${name}`, PRELUDE + body);

/** ARGV[2] id, [3] envelope JSON, [4] pending JSON, [5] created ms, [6] size, [7] bytes. */
const ENQUEUE = script(
  'enqueue',
  `
local id = ARGV[2]
redis.call('SET', Q .. 'body:' .. id, ARGV[7])
redis.call('HSET', Q .. 'item:' .. id, 'envelope', ARGV[3], 'pending', ARGV[4], 'attempts', 0,
  'created', ARGV[5], 'next', ARGV[5], 'state', 'queued', 'size', ARGV[6], 'lease', 0)
redis.call('ZADD', Q .. 'due', ARGV[5], id)
redis.call('ZADD', KEYS[1], ARGV[5], id)
return 1
`,
);

/** ARGV[2] now ms, [3] lease ms, [4] limit → (id, fields…) rows, oldest due first. */
const CLAIM = script(
  'claim',
  `
local out = {}
local leaseEnd = tonumber(ARGV[2]) + tonumber(ARGV[3])
for _, id in ipairs(redis.call('ZRANGEBYSCORE', Q .. 'due', '-inf', ARGV[2], 'LIMIT', 0, tonumber(ARGV[4]))) do
  redis.call('HSET', Q .. 'item:' .. id, 'state', 'leased', 'lease', leaseEnd)
  redis.call('ZADD', Q .. 'due', leaseEnd, id)
  table.insert(out, {id, redis.call('HGETALL', Q .. 'item:' .. id)})
end
return out
`,
);

/** ARGV[2] id, [3] next ms, [4] reason, [5] pending JSON ('' keeps it). */
const DEFER = script(
  'defer',
  `
local id = ARGV[2]
requireItem(id)
redis.call('HINCRBY', Q .. 'item:' .. id, 'attempts', 1)
redis.call('HSET', Q .. 'item:' .. id, 'state', 'queued', 'next', ARGV[3], 'error', ARGV[4], 'lease', 0)
if ARGV[5] ~= '' then redis.call('HSET', Q .. 'item:' .. id, 'pending', ARGV[5]) end
redis.call('ZADD', Q .. 'due', ARGV[3], id)
return 1
`,
);

/** ARGV[2] id, [3] reason. */
const FAIL = script(
  'fail',
  `
local id = ARGV[2]
requireItem(id)
redis.call('HINCRBY', Q .. 'item:' .. id, 'attempts', 1)
redis.call('HSET', Q .. 'item:' .. id, 'state', 'failed', 'error', ARGV[3], 'lease', 0)
redis.call('ZREM', Q .. 'due', id)
return 1
`,
);

/** ARGV[2] id, [3] '1' when a missing item is NOT_FOUND (complete) rather than 0 (delete). */
const REMOVE = script(
  'remove',
  `
local id = ARGV[2]
if ARGV[3] == '1' then requireItem(id) end
redis.call('ZREM', Q .. 'due', id)
redis.call('ZREM', KEYS[1], id)
return redis.call('DEL', Q .. 'item:' .. id, Q .. 'body:' .. id) > 0 and 1 or 0
`,
);

/** ARGV[2] now ms: every queued item due now. */
const FLUSH = script(
  'flush',
  `
local n = 0
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  if redis.call('HGET', Q .. 'item:' .. id, 'state') == 'queued' then
    redis.call('HSET', Q .. 'item:' .. id, 'next', ARGV[2])
    redis.call('ZADD', Q .. 'due', ARGV[2], id)
    n = n + 1
  end
end
return n
`,
);

const LIST = script(
  'list',
  `
local out = {}
for _, id in ipairs(redis.call('ZRANGE', KEYS[1], 0, -1)) do
  table.insert(out, {id, redis.call('HGETALL', Q .. 'item:' .. id)})
end
return out
`,
);

/** Ids are ours (`enqueue`); anything else, e.g. typed by an admin, names no item and no key. */
const ID = /^[0-9a-z]{1,16}-[0-9a-f]{12}$/;
function checkId(id: string): string {
  if (!ID.test(id)) throw new StoreError('NOT_FOUND', 'no such queue item');
  return id;
}

function toItem(id: string, flat: string[]): QueueItem {
  const f: Record<string, string> = {};
  for (let i = 0; i < flat.length; i += 2) f[flat[i]!] = flat[i + 1]!;
  return {
    id,
    envelope: JSON.parse(f.envelope!) as QueueEnvelope,
    pending: JSON.parse(f.pending!) as string[],
    attempts: Number(f.attempts),
    createdAt: new Date(Number(f.created)),
    nextAttemptAt: new Date(Number(f.next)),
    lastError: f.error ?? null,
    state: f.state as QueueItem['state'],
    size: Number(f.size),
  };
}

export class RedisQueue implements Queue {
  constructor(private readonly ctx: RedisContext) {}

  private run(s: LuaScript, args: Array<string | number | Buffer>): Promise<unknown> {
    const q = this.ctx.keys.queue;
    return s.run(this.ctx.redis, [`${q}all`], [q, ...args]);
  }

  async enqueue(envelope: QueueEnvelope, message: MessageSource): Promise<string> {
    const bytes = await readSource(message);
    const id = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    const env = { ...envelope, to: [...envelope.to] };
    await this.run(ENQUEUE, [
      id,
      JSON.stringify(env),
      JSON.stringify(env.to),
      String(Date.now()),
      String(bytes.length),
      bytes,
    ]);
    return id;
  }

  async claim(limit: number, leaseMs: number, now = new Date()): Promise<QueueItem[]> {
    if (limit <= 0) return [];
    const rows = (await this.run(CLAIM, [String(now.getTime()), String(leaseMs), String(limit)])) as Array<
      [string, string[]]
    >;
    return rows.map(([id, flat]) => toItem(id, flat));
  }

  async openMessage(id: string): Promise<Readable> {
    checkId(id);
    const size = await guarded(() => this.ctx.redis.hget(`${this.ctx.keys.queue}item:${id}`, 'size'));
    if (size === null) throw new StoreError('NOT_FOUND', 'no such queue item');
    return bodyStream(this.ctx.redis, `${this.ctx.keys.queue}body:${id}`, Number(size));
  }

  async defer(id: string, nextAttemptAt: Date, reason: string, pending?: string[]): Promise<void> {
    await this.run(DEFER, [
      checkId(id),
      String(nextAttemptAt.getTime()),
      reason,
      pending ? JSON.stringify(pending) : '',
    ]);
  }

  async complete(id: string): Promise<void> {
    await this.run(REMOVE, [checkId(id), '1']);
  }

  async fail(id: string, reason: string): Promise<void> {
    await this.run(FAIL, [checkId(id), reason]);
  }

  async list(): Promise<QueueItem[]> {
    const rows = (await this.run(LIST, [])) as Array<[string, string[]]>;
    return rows.filter(([, flat]) => flat.length > 0).map(([id, flat]) => toItem(id, flat));
  }

  async get(id: string): Promise<QueueItem | undefined> {
    if (!ID.test(id)) return undefined;
    const flat = await guarded(() => this.ctx.redis.hgetall(`${this.ctx.keys.queue}item:${id}`));
    if (Object.keys(flat).length === 0) return undefined;
    return toItem(id, Object.entries(flat).flat());
  }

  async delete(id: string): Promise<boolean> {
    if (!ID.test(id)) return false;
    return (await this.run(REMOVE, [id, '0'])) === 1;
  }

  async flush(): Promise<number> {
    return (await this.run(FLUSH, [String(Date.now())])) as number;
  }
}
