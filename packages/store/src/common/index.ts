/** Helpers shared by every backend: names, passwords, flags, UIDs, the change feed. */
export * from './names.js';
export * from './passwords.js';
export * from './flags.js';
export * from './uids.js';
export { ChangeFeed } from './feed.js';
export { DEFAULT_MAILBOXES } from './mailboxes.js';
export { handOver, readSource, sourceBytes, bytesStream } from './source.js';
