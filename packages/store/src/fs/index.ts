/** The fs backend: the default store, kept in a directory that several processes may share. */
import type { Store } from '../types.js';
import { fsDeps } from './deps.js';
import { openFsStoreWith } from './store.js';

export { checkMailboxDir, type CheckReport } from './fsck.js';
export { FsStore, openFsStoreWith, type FsDeps } from './store.js';

export async function openFsStore(dir: string, options?: { domains?: string[] }): Promise<Store> {
  return openFsStoreWith(dir, fsDeps, options);
}
