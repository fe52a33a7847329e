export { RedisStore, openRedisStore, type RedisStoreOptions } from './store.js';
