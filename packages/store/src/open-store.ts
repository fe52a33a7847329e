/**
 * Opening a store from its spec, as the CLI and the server configuration give it:
 * 'fs' (the default: files under <dataDir>/store), 'memory', or a redis:// URL.
 */
import { join } from 'node:path';
import type { Store } from './types.js';
import { StoreError } from './types.js';
import { openFsStore } from './fs/index.js';

export interface OpenStoreOptions {
  dataDir: string;
  domains?: string[];
}

/** The memory backend is loaded only when asked for (kept out of fs-only processes). */
async function createMemory(options: { domains?: string[] }): Promise<Store> {
  const specifier = './memory/index.js';
  const mod = (await import(specifier)) as { createMemoryStore(o?: { domains?: string[] }): Promise<Store> };
  return mod.createMemoryStore(options);
}

export async function openStore(spec: 'fs' | 'memory' | string, options: OpenStoreOptions): Promise<Store> {
  if (spec === 'fs') return openFsStore(join(options.dataDir, 'store'), { domains: options.domains });
  if (spec === 'memory') return createMemory({ domains: options.domains });
  if (/^rediss?:\/\//i.test(spec)) throw new StoreError('UNAVAILABLE', 'redis backend not available yet');
  throw new StoreError('INVALID_NAME', `unknown store '${spec}' (expected fs, memory or redis://…)`);
}
