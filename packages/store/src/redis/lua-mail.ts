/**
 * The mail scripts. Each runs atomically in Redis (Redis docs, "Scripting with Lua": no other
 * command runs while a script does), so UID and modseq allocation, multi-mailbox delivery,
 * copy/move and expunge are all-or-nothing and their change is PUBLISHed in the same step.
 *
 * Calling convention: KEYS[1] = `<user prefix>boxes`, naming the user's slot; ARGV[1] = the
 * user prefix (every other key is derived from it and shares its hash tag), ARGV[2] = the
 * canonical user, ARGV[3] = the feed channel; the script's own arguments follow from ARGV[4].
 *
 * Per mailbox id: `box:<id>` hash (name, special, sub, uidv, next, modseq), `uids:<id>` zset
 * (uid by uid), `mods:<id>` zset (uid by modseq, for CHANGEDSINCE), `meta:<id>` hash (uid →
 * JSON {b: blob, s: size, d: internal date ms, f: flags}), `unseen:<id>` and `deleted:<id>`
 * sets of uids. Per user, `subskept` is the set of subscribed names whose mailbox was deleted
 * (RFC 3501 §6.3.6 keeps them). Bodies are shared by copies: `blob:<blob>` hash (index, size, refs),
 * `body:<blob>` string.
 */
import { LuaScript } from './connection.js';

const PRELUDE = `
local P = ARGV[1]
local USER = ARGV[2]
local CHANNEL = ARGV[3]
local function fail(code, message) error({err = code .. ' ' .. message}) end
local function requireUser()
  if redis.call('EXISTS', P .. 'exists') == 0 then fail('NOT_FOUND', 'no such user') end
end
local function boxId(name)
  local id = redis.call('HGET', P .. 'boxes', name)
  if not id then fail('NOT_FOUND', 'no such mailbox') end
  return id
end
local function publishMail(name, change)
  redis.call('PUBLISH', CHANNEL,
    '{"t":"m","u":' .. cjson.encode(USER) .. ',"b":' .. cjson.encode(name) .. ',"c":' .. change .. '}')
end
local function createBox(name, special, now, sub)
  if redis.call('HEXISTS', P .. 'boxes', name) == 1 then fail('EXISTS', 'mailbox exists') end
  local id = redis.call('INCR', P .. 'nextbox')
  -- RFC 3501 2.3.1.1: a name created again gets a greater UIDVALIDITY ('uidv' outlives the user).
  local uidv = math.max(tonumber(now), tonumber(redis.call('GET', P .. 'uidv') or '0') + 1)
  redis.call('SET', P .. 'uidv', uidv)
  if redis.call('SREM', P .. 'subskept', name) == 1 then sub = '1' end
  redis.call('HSET', P .. 'box:' .. id, 'name', name, 'special', special, 'sub', sub,
    'uidv', uidv, 'next', '1', 'modseq', '0')
  redis.call('HSET', P .. 'boxes', name, id)
  return id
end
local function unref(blob)
  if redis.call('HINCRBY', P .. 'blob:' .. blob, 'refs', -1) <= 0 then
    redis.call('DEL', P .. 'blob:' .. blob, P .. 'body:' .. blob)
  end
end
local function addMessage(id, name, meta, seen, deleted)
  local blob = cjson.decode(meta).b
  local uid = redis.call('HINCRBY', P .. 'box:' .. id, 'next', 1) - 1
  local ms = redis.call('HINCRBY', P .. 'box:' .. id, 'modseq', 1)
  redis.call('ZADD', P .. 'uids:' .. id, uid, uid)
  redis.call('ZADD', P .. 'mods:' .. id, ms, uid)
  redis.call('HSET', P .. 'meta:' .. id, uid, meta)
  if seen ~= '1' then redis.call('SADD', P .. 'unseen:' .. id, uid) end
  if deleted == '1' then redis.call('SADD', P .. 'deleted:' .. id, uid) end
  redis.call('HINCRBY', P .. 'blob:' .. blob, 'refs', 1)
  publishMail(name, '{"kind":"new","uid":' .. uid .. ',"modseq":' .. ms .. '}')
  return uid, ms
end
local function removeMessage(id, uid)
  local meta = redis.call('HGET', P .. 'meta:' .. id, uid)
  if not meta then return false end
  redis.call('ZREM', P .. 'uids:' .. id, uid)
  redis.call('ZREM', P .. 'mods:' .. id, uid)
  redis.call('HDEL', P .. 'meta:' .. id, uid)
  redis.call('SREM', P .. 'unseen:' .. id, uid)
  redis.call('SREM', P .. 'deleted:' .. id, uid)
  unref(cjson.decode(meta).b)
  return true
end
local function dropBox(id, name)
  for _, meta in ipairs(redis.call('HVALS', P .. 'meta:' .. id)) do unref(cjson.decode(meta).b) end
  redis.call('DEL', P .. 'box:' .. id, P .. 'uids:' .. id, P .. 'mods:' .. id, P .. 'meta:' .. id,
    P .. 'unseen:' .. id, P .. 'deleted:' .. id, P .. 'lock:' .. id)
  redis.call('HDEL', P .. 'boxes', name)
  publishMail(name, '{"kind":"deleted"}')
end
local function info(id)
  local b = redis.call('HMGET', P .. 'box:' .. id, 'name', 'special', 'sub', 'uidv', 'next', 'modseq')
  return {b[1], b[2], b[3], b[4], b[5], b[6],
    redis.call('ZCARD', P .. 'uids:' .. id), redis.call('SCARD', P .. 'unseen:' .. id)}
end
`;

const script = (name: string, body: string) => new LuaScript(`mail.${name}`, PRELUDE + body);

/**
 * ARGV[4] = now (s), then name/special pairs. Run once the address is claimed in accounts:
 * whatever a deleted namesake left (a deleteUser cut short by a lost connection) is dropped
 * first, so a new user never inherits old mail.
 */
export const PROVISION = script(
  'provision',
  `
local old = redis.call('HGETALL', P .. 'boxes')
for i = 1, #old, 2 do dropBox(old[i + 1], old[i]) end
redis.call('DEL', P .. 'subskept')
redis.call('SET', P .. 'exists', '1')
for i = 5, #ARGV, 2 do createBox(ARGV[i], ARGV[i + 1], ARGV[4], '1') end
return 1
`,
);

/** Every mailbox of the user goes (watchers told); 'nextbox' and 'uidv' stay so ids and UIDVALIDITY never repeat. */
export const DROP_USER = script(
  'dropUser',
  `
local boxes = redis.call('HGETALL', P .. 'boxes')
for i = 1, #boxes, 2 do dropBox(boxes[i + 1], boxes[i]) end
redis.call('DEL', P .. 'boxes', P .. 'exists', P .. 'subskept')
return #boxes / 2
`,
);

/** ARGV[4] name, ARGV[5] special ('' for none), ARGV[6] now (s). */
export const CREATE_BOX = script(
  'createBox',
  `
requireUser()
return info(createBox(ARGV[4], ARGV[5], ARGV[6], '0'))
`,
);

/** ARGV[4] name. A subscription to it is kept (RFC 3501 §6.3.6). */
export const DELETE_BOX = script(
  'deleteBox',
  `
local id = boxId(ARGV[4])
if redis.call('HGET', P .. 'box:' .. id, 'sub') == '1' then redis.call('SADD', P .. 'subskept', ARGV[4]) end
dropBox(id, ARGV[4])
return 1
`,
);

/**
 * ARGV[4] from, ARGV[5] to (not INBOX: that rename is a create and a move). Inferiors are
 * renamed with it and keep their UIDVALIDITY (RFC 3501 §6.3.5); watchers of the old names
 * are told they are gone.
 */
export const RENAME_BOX = script(
  'renameBox',
  `
local from, to = ARGV[4], ARGV[5]
boxId(from)
if redis.call('HEXISTS', P .. 'boxes', to) == 1 then fail('EXISTS', 'target mailbox exists') end
local all = redis.call('HGETALL', P .. 'boxes')
local moving = {}
for i = 1, #all, 2 do
  local name = all[i]
  if name == from or string.sub(name, 1, #from + 1) == from .. '/' then
    local target = to .. string.sub(name, #from + 1)
    if redis.call('HEXISTS', P .. 'boxes', target) == 1 then fail('EXISTS', 'target mailbox exists') end
    table.insert(moving, {name, all[i + 1], target})
  end
end
for _, m in ipairs(moving) do redis.call('HDEL', P .. 'boxes', m[1]) end
for _, m in ipairs(moving) do
  redis.call('HSET', P .. 'boxes', m[3], m[2])
  redis.call('HSET', P .. 'box:' .. m[2], 'name', m[3])
  if redis.call('SREM', P .. 'subskept', m[3]) == 1 then redis.call('HSET', P .. 'box:' .. m[2], 'sub', '1') end
  publishMail(m[1], '{"kind":"deleted"}')
end
return #moving
`,
);

/** ARGV[4] name, ARGV[5] '1' or '0'. Unsubscribing also drops a kept subscription. */
export const SET_SUBSCRIBED = script(
  'setSubscribed',
  `
if ARGV[5] == '0' and redis.call('HEXISTS', P .. 'boxes', ARGV[4]) == 0
  and redis.call('SREM', P .. 'subskept', ARGV[4]) == 1 then return 1 end
redis.call('HSET', P .. 'box:' .. boxId(ARGV[4]), 'sub', ARGV[5])
return 1
`,
);

/** Subscribed names: mailboxes with 'sub' set, then the kept ones. */
export const LIST_SUBSCRIPTIONS = script(
  'listSubscriptions',
  `
local out = {}
local all = redis.call('HGETALL', P .. 'boxes')
for i = 1, #all, 2 do
  if redis.call('HGET', P .. 'box:' .. all[i + 1], 'sub') == '1' then table.insert(out, all[i]) end
end
for _, name in ipairs(redis.call('SMEMBERS', P .. 'subskept')) do table.insert(out, name) end
return out
`,
);

/** ARGV[4] name → info, or nil. */
export const INFO = script(
  'info',
  `
local id = redis.call('HGET', P .. 'boxes', ARGV[4])
if not id then return nil end
return info(id)
`,
);

export const LIST_INFO = script(
  'listInfo',
  `
local out = {}
local all = redis.call('HGETALL', P .. 'boxes')
for i = 2, #all, 2 do table.insert(out, info(all[i])) end
return out
`,
);

/**
 * One message into several of this user's mailboxes, all or nothing. ARGV[4] blob id,
 * ARGV[5] bytes, ARGV[6] index JSON, ARGV[7] size, then (name, meta JSON, seen, deleted)
 * per target. Returns (uidValidity, uid, modseq, name) per target.
 */
export const DELIVER = script(
  'deliver',
  `
local ids = {}
for i = 8, #ARGV, 4 do table.insert(ids, boxId(ARGV[i])) end
local blob = ARGV[4]
redis.call('SET', P .. 'body:' .. blob, ARGV[5])
redis.call('HSET', P .. 'blob:' .. blob, 'index', ARGV[6], 'size', ARGV[7], 'refs', 0)
local out = {}
for n, id in ipairs(ids) do
  local i = 8 + (n - 1) * 4
  local uid, ms = addMessage(id, ARGV[i], ARGV[i + 1], ARGV[i + 2], ARGV[i + 3])
  table.insert(out, {redis.call('HGET', P .. 'box:' .. id, 'uidv'), uid, ms, ARGV[i]})
end
return out
`,
);

/**
 * COPY and MOVE (RFC 4315 COPYUID order: ascending source UIDs). ARGV[4] from, ARGV[5] to,
 * ARGV[6] '1' to remove the sources (one EXPUNGE change), then the UIDs, ascending.
 */
export const TRANSFER = script(
  'transfer',
  `
local src, dst = boxId(ARGV[4]), boxId(ARGV[5])
local dstName = redis.call('HGET', P .. 'box:' .. dst, 'name')
local out = {redis.call('HGET', P .. 'box:' .. dst, 'uidv')}
local moved = {}
for i = 7, #ARGV do
  local uid = ARGV[i]
  local meta = redis.call('HGET', P .. 'meta:' .. src, uid)
  if meta then
    local seen = redis.call('SISMEMBER', P .. 'unseen:' .. src, uid) == 0 and '1' or '0'
    local deleted = redis.call('SISMEMBER', P .. 'deleted:' .. src, uid) == 1 and '1' or '0'
    local newUid = addMessage(dst, dstName, meta, seen, deleted)
    table.insert(out, tonumber(uid))
    table.insert(out, newUid)
    table.insert(moved, uid)
  end
end
if ARGV[6] == '1' and #moved > 0 then
  for _, uid in ipairs(moved) do removeMessage(src, uid) end
  local ms = redis.call('HINCRBY', P .. 'box:' .. src, 'modseq', 1)
  publishMail(redis.call('HGET', P .. 'box:' .. src, 'name'),
    '{"kind":"expunge","uids":[' .. table.concat(moved, ',') .. '],"modseq":' .. ms .. '}')
end
return out
`,
);

/**
 * Flag changes computed by the caller from a snapshot, applied only if no message changed
 * since (compare-and-set on each modseq; the caller retries on a conflict). ARGV[4] name,
 * then (uid, expected modseq, meta JSON, seen, deleted, flags JSON) per message. Returns
 * the new modseqs, or the single element 'CONFLICT'.
 */
export const SET_FLAGS = script(
  'setFlags',
  `
local id = boxId(ARGV[4])
for i = 5, #ARGV, 6 do
  local ms = redis.call('ZSCORE', P .. 'mods:' .. id, ARGV[i])
  if ms ~= ARGV[i + 1] then return {'CONFLICT'} end
end
local name = redis.call('HGET', P .. 'box:' .. id, 'name')
local out = {}
for i = 5, #ARGV, 6 do
  local uid = ARGV[i]
  local ms = redis.call('HINCRBY', P .. 'box:' .. id, 'modseq', 1)
  redis.call('HSET', P .. 'meta:' .. id, uid, ARGV[i + 2])
  redis.call('ZADD', P .. 'mods:' .. id, ms, uid)
  if ARGV[i + 3] == '1' then redis.call('SREM', P .. 'unseen:' .. id, uid)
  else redis.call('SADD', P .. 'unseen:' .. id, uid) end
  if ARGV[i + 4] == '1' then redis.call('SADD', P .. 'deleted:' .. id, uid)
  else redis.call('SREM', P .. 'deleted:' .. id, uid) end
  publishMail(name, '{"kind":"flags","uid":' .. uid .. ',"flags":' .. ARGV[i + 5] .. ',"modseq":' .. ms .. '}')
  table.insert(out, ms)
end
return out
`,
);

/** ARGV[4] name, ARGV[5] '1' when only the UIDs that follow may go. Returns the expunged UIDs. */
export const EXPUNGE = script(
  'expunge',
  `
local id = boxId(ARGV[4])
local only = nil
if ARGV[5] == '1' then
  only = {}
  for i = 6, #ARGV do only[ARGV[i]] = true end
end
local gone = {}
for _, uid in ipairs(redis.call('SMEMBERS', P .. 'deleted:' .. id)) do
  if not only or only[uid] then table.insert(gone, tonumber(uid)) end
end
if #gone == 0 then return gone end
table.sort(gone)
for _, uid in ipairs(gone) do removeMessage(id, uid) end
local ms = redis.call('HINCRBY', P .. 'box:' .. id, 'modseq', 1)
publishMail(redis.call('HGET', P .. 'box:' .. id, 'name'),
  '{"kind":"expunge","uids":[' .. table.concat(gone, ',') .. '],"modseq":' .. ms .. '}')
return gone
`,
);

/**
 * A consistent snapshot of messages: ARGV[4] name, ARGV[5] low UID, ARGV[6] high ('+inf'),
 * ARGV[7] changedSince ('' for none). Returns (uid, modseq, meta JSON) triples in UID order.
 */
export const LIST = script(
  'list',
  `
local id = boxId(ARGV[4])
local since = tonumber(ARGV[7])
local out = {}
for _, uid in ipairs(redis.call('ZRANGEBYSCORE', P .. 'uids:' .. id, ARGV[5], ARGV[6])) do
  local ms = redis.call('ZSCORE', P .. 'mods:' .. id, uid)
  if not since or tonumber(ms) > since then
    table.insert(out, uid)
    table.insert(out, ms)
    table.insert(out, redis.call('HGET', P .. 'meta:' .. id, uid))
  end
end
return out
`,
);

/** ARGV[4] name, ARGV[5] uid, ARGV[6] '1' to include the index. Returns (blob, size, index?) or nil. */
export const MESSAGE = script(
  'message',
  `
local id = redis.call('HGET', P .. 'boxes', ARGV[4])
if not id then return nil end
local meta = redis.call('HGET', P .. 'meta:' .. id, ARGV[5])
if not meta then return nil end
local blob = cjson.decode(meta).b
if ARGV[6] == '1' then
  return {blob, redis.call('HGET', P .. 'blob:' .. blob, 'size'), redis.call('HGET', P .. 'blob:' .. blob, 'index')}
end
return {blob, redis.call('HGET', P .. 'blob:' .. blob, 'size')}
`,
);

/** ARGV[4] name, ARGV[5] token, ARGV[6] ttl ms. Returns the lock key, or nil when held. */
export const TRY_LOCK = script(
  'tryLock',
  `
local key = P .. 'lock:' .. boxId(ARGV[4])
if redis.call('SET', key, ARGV[5], 'NX', 'PX', ARGV[6]) then return key end
return nil
`,
);

/** KEYS[1] the lock key, ARGV[1] the holder's token: a late release never frees the next holder's lock. */
export const RELEASE_LOCK = new LuaScript(
  'mail.releaseLock',
  `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`,
);
