/**
 * The news scripts, all in the `{news}` slot (a cross-post numbers every group in one
 * atomic step). KEYS[1] = `<news prefix>names` (the set of group names); ARGV[1] = the news
 * prefix, ARGV[2] = the feed channel; the script's own arguments follow from ARGV[3].
 *
 * Per group (key part: the encoded name): `g:<g>` hash (name, description, posting,
 * created, mail, next), `a:<g>` zset of article numbers, `ov:<g>` hash (number → JSON
 * {m: Message-ID, p: posted ms, s: size, o: overview, k: article key}), `subs:<g>` set.
 * Per article (key part: SHA-256 of the Message-ID): `art:<k>` hash (id, index, size,
 * posted), `refs:<k>` hash (group → number), `body:<k>` string, `claim:<k>` while posting.
 * `posted` zset: article keys by posting time (NEWNEWS).
 */
import { LuaScript } from './connection.js';

const PRELUDE = `
local N = ARGV[1]
local CHANNEL = ARGV[2]
local function fail(code, message) error({err = code .. ' ' .. message}) end
local function requireGroup(g)
  if redis.call('EXISTS', N .. 'g:' .. g) == 0 then fail('NOT_FOUND', 'no such group') end
end
local function info(g)
  local f = redis.call('HMGET', N .. 'g:' .. g, 'name', 'description', 'posting', 'created', 'mail', 'next')
  if not f[1] then return nil end
  local first = redis.call('ZRANGE', N .. 'a:' .. g, 0, 0)
  return {f[1], f[2], f[3], f[4], f[5] or '', f[6], redis.call('ZCARD', N .. 'a:' .. g), first[1] or f[6]}
end
`;

const script = (name: string, body: string) => new LuaScript(`news.${name}`, PRELUDE + body);

/** ARGV[3] key part, ARGV[4] name, ARGV[5] description, ARGV[6] posting, ARGV[7] created ms, ARGV[8] mail ('' none). */
export const CREATE_GROUP = script(
  'createGroup',
  `
if redis.call('SADD', KEYS[1], ARGV[4]) == 0 then fail('EXISTS', 'group exists') end
redis.call('HSET', N .. 'g:' .. ARGV[3], 'name', ARGV[4], 'description', ARGV[5], 'posting', ARGV[6],
  'created', ARGV[7], 'next', '1')
if ARGV[8] ~= '' then redis.call('HSET', N .. 'g:' .. ARGV[3], 'mail', ARGV[8]) end
return info(ARGV[3])
`,
);

/** ARGV[3] key part, then field/value pairs ('mail' with '' removes the address). */
export const UPDATE_GROUP = script(
  'updateGroup',
  `
local g = ARGV[3]
requireGroup(g)
for i = 4, #ARGV, 2 do
  if ARGV[i] == 'mail' and ARGV[i + 1] == '' then redis.call('HDEL', N .. 'g:' .. g, 'mail')
  else redis.call('HSET', N .. 'g:' .. g, ARGV[i], ARGV[i + 1]) end
end
return info(g)
`,
);

/**
 * ARGV[3] key part, ARGV[4] name. Articles keep their other groups; their Message-IDs stay
 * known (history), so a re-post is still a DUPLICATE (RFC 3977 §3.6).
 */
export const DELETE_GROUP = script(
  'deleteGroup',
  `
local g = ARGV[3]
if redis.call('SREM', KEYS[1], ARGV[4]) == 0 then return 0 end
for _, ov in ipairs(redis.call('HVALS', N .. 'ov:' .. g)) do
  redis.call('HDEL', N .. 'refs:' .. cjson.decode(ov).k, ARGV[4])
end
redis.call('DEL', N .. 'g:' .. g, N .. 'a:' .. g, N .. 'ov:' .. g, N .. 'subs:' .. g)
return 1
`,
);

/** ARGV[3..] key parts → info rows (nil for a missing group). */
export const GROUP_INFO = script(
  'groupInfo',
  `
local out = {}
for i = 3, #ARGV do out[i - 2] = info(ARGV[i]) or false end
return out
`,
);

/**
 * Before reading the article: ARGV[3] article key, ARGV[4] claim ttl ms, ARGV[5..] group key
 * parts. NOT_FOUND for a missing group; DUPLICATE when the Message-ID is known or being posted.
 */
export const CLAIM = script(
  'claim',
  `
for i = 5, #ARGV do requireGroup(ARGV[i]) end
if redis.call('EXISTS', N .. 'art:' .. ARGV[3]) == 1 then fail('DUPLICATE', 'Message-ID already known') end
if not redis.call('SET', N .. 'claim:' .. ARGV[3], '1', 'NX', 'PX', ARGV[4]) then
  fail('DUPLICATE', 'Message-ID already known')
end
return 1
`,
);

export const UNCLAIM = script('unclaim', `redis.call('DEL', N .. 'claim:' .. ARGV[3]) return 1`);

/**
 * The post itself: ARGV[3] article key, ARGV[4] Message-ID, ARGV[5] bytes, ARGV[6] index
 * JSON, ARGV[7] size, ARGV[8] posted ms, ARGV[9] overview JSON, then (key part, name) per
 * group in name order. Returns the article numbers in that order.
 */
export const COMMIT = script(
  'commit',
  `
local k = ARGV[3]
for i = 10, #ARGV, 2 do requireGroup(ARGV[i]) end
if redis.call('EXISTS', N .. 'art:' .. k) == 1 then fail('DUPLICATE', 'Message-ID already known') end
redis.call('SET', N .. 'body:' .. k, ARGV[5])
redis.call('HSET', N .. 'art:' .. k, 'id', ARGV[4], 'index', ARGV[6], 'size', ARGV[7], 'posted', ARGV[8])
redis.call('ZADD', N .. 'posted', ARGV[8], k)
local ov = '{"m":' .. cjson.encode(ARGV[4]) .. ',"p":' .. ARGV[8] .. ',"s":' .. ARGV[7] ..
  ',"k":"' .. k .. '","o":' .. ARGV[9] .. '}'
local out = {}
for i = 10, #ARGV, 2 do
  local g = ARGV[i]
  local number = redis.call('HINCRBY', N .. 'g:' .. g, 'next', 1) - 1
  redis.call('ZADD', N .. 'a:' .. g, number, number)
  redis.call('HSET', N .. 'ov:' .. g, number, ov)
  redis.call('HSET', N .. 'refs:' .. k, ARGV[i + 1], number)
  redis.call('PUBLISH', CHANNEL, '{"t":"n","g":' .. cjson.encode(ARGV[i + 1]) ..
    ',"c":{"kind":"new","number":' .. number .. ',"messageId":' .. cjson.encode(ARGV[4]) .. '}}')
  table.insert(out, number)
end
redis.call('DEL', N .. 'claim:' .. k)
return out
`,
);

/** ARGV[3] key part, ARGV[4] low, ARGV[5] high, ARGV[6] '1' for overview JSON too. */
export const RANGE = script(
  'range',
  `
local g = ARGV[3]
requireGroup(g)
local out = {}
for _, n in ipairs(redis.call('ZRANGEBYSCORE', N .. 'a:' .. g, ARGV[4], ARGV[5])) do
  table.insert(out, n)
  if ARGV[6] == '1' then table.insert(out, redis.call('HGET', N .. 'ov:' .. g, n)) end
end
return out
`,
);

/** ARGV[3] article key → (Message-ID, size, posted, then group/number pairs), or nil. */
export const ARTICLE = script(
  'article',
  `
local a = redis.call('HMGET', N .. 'art:' .. ARGV[3], 'id', 'size', 'posted')
if not a[1] then return nil end
local out = {a[1], a[2], a[3]}
for _, x in ipairs(redis.call('HGETALL', N .. 'refs:' .. ARGV[3])) do table.insert(out, x) end
return out
`,
);

/** ARGV[3] since ms → (Message-ID, comma-joined groups) pairs. */
export const SINCE = script(
  'since',
  `
local out = {}
for _, k in ipairs(redis.call('ZRANGEBYSCORE', N .. 'posted', ARGV[3], '+inf')) do
  table.insert(out, redis.call('HGET', N .. 'art:' .. k, 'id'))
  table.insert(out, table.concat(redis.call('HKEYS', N .. 'refs:' .. k), ','))
end
return out
`,
);

/** ARGV[3] key part, ARGV[4] 'add' | 'remove' | 'list', ARGV[5] address. */
export const SUBSCRIBERS = script(
  'subscribers',
  `
local g = ARGV[3]
requireGroup(g)
local key = N .. 'subs:' .. g
if ARGV[4] == 'add' then return redis.call('SADD', key, ARGV[5]) end
if ARGV[4] == 'remove' then return redis.call('SREM', key, ARGV[5]) end
return redis.call('SMEMBERS', key)
`,
);
