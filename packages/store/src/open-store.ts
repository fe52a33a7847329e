/**
 * Opening a store from its spec, as the CLI and the server configuration give it:
 * 'fs' (the default: files under <dataDir>/store), 'memory', or a redis:// URL.
 */
import { join } from 'node:path';
import type { Store } from './types.js';
import { StoreError } from './types.js';
import { openFsStore } from './fs/index.js';
import { createMemoryStore } from './memory/index.js';

export interface OpenStoreOptions {
  dataDir: string;
  domains?: string[];
}

export async function openStore(spec: 'fs' | 'memory' | string, options: OpenStoreOptions): Promise<Store> {
  if (spec === 'fs') return openFsStore(join(options.dataDir, 'store'), { domains: options.domains });
  if (spec === 'memory') return createMemoryStore({ domains: options.domains });
  if (/^rediss?:\/\//i.test(spec)) throw new StoreError('UNAVAILABLE', 'redis backend not available yet');
  throw new StoreError('INVALID_NAME', `unknown store '${spec}' (expected fs, memory or redis://…)`);
}
