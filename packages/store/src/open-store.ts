/**
 * Opening a store from its spec, as the CLI and the server configuration give it:
 * 'fs' (the default: files under <dataDir>/store), 'memory', or a redis:// URL.
 */
import { join } from 'node:path';
import type { Store } from './types.js';
import { StoreError } from './types.js';
import { openFsStore } from './fs/index.js';
import { createMemoryStore } from './memory/index.js';
import { openRedisStore } from './redis/index.js';

export interface OpenStoreOptions {
  dataDir: string;
  domains?: string[];
}

export async function openStore(spec: 'fs' | 'memory' | string, options: OpenStoreOptions): Promise<Store> {
  if (spec === 'fs') return openFsStore(join(options.dataDir, 'store'), { domains: options.domains });
  if (spec === 'memory') return createMemoryStore({ domains: options.domains });
  // redis://host:port/db: the data dir is not used; every process of a fleet shares Redis.
  if (/^rediss?:\/\//i.test(spec)) return openRedisStore(spec, { domains: options.domains });
  throw new StoreError('INVALID_NAME', `unknown store '${spec}' (expected fs, memory or redis://…)`);
}
