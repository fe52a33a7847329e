export * from './types.js';
export { openFsStore, FsStore, checkMailboxDir, type CheckReport } from './fs/index.js';
export { measureFsStore, type FsBenchOptions, type FsBenchResult } from './fs/bench.js';
export { openStore, type OpenStoreOptions } from './open-store.js';
export { indexMessage, decodeWords, parseHeaderBlock } from './indexer/index.js';
export { createMemoryStore, MemoryStore } from './memory/index.js';
export { openRedisStore, RedisStore, type RedisStoreOptions } from './redis/index.js';
export {
  ChangeFeed,
  DEFAULT_MAILBOXES,
  MAILBOX_DELIMITER,
  applyFlagMode,
  bytesStream,
  canonicalMailbox,
  canonicalUser,
  decodeNameFromPath,
  encodeNameForPath,
  formatUidSet,
  hashPassword,
  handOver,
  hasFlag,
  inUidRange,
  normalizeDomain,
  normalizeFlags,
  normalizeUids,
  readSource,
  sameFlags,
  toUidRanges,
  validateGroup,
  validateMailbox,
  validateMessageId,
  validateUser,
  verifyPassword,
} from './common/index.js';
