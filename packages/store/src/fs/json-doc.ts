/**
 * A small JSON document shared by processes (accounts, a user's mailbox list, the group
 * list): reads are cached by inode/mtime/size; updates are read-modify-write under a lock
 * file with an atomic replace (temp, fsync, rename, fsync the directory), so nobody ever
 * reads half a file and concurrent updates from several processes serialize.
 */
import { promises as fsp } from 'node:fs';
import { StoreError } from '../types.js';
import { isErrno, readJson, writeFileAtomic } from './fsutil.js';
import { withLock } from './lock.js';

export class JsonDoc<T> {
  private cached: { key: string; value: T } | undefined;

  constructor(readonly path: string) {}

  /** The document, or undefined when it does not exist. Treat it as read-only. */
  async read(): Promise<T | undefined> {
    let st;
    try {
      st = await fsp.stat(this.path);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
    const key = `${st.ino}:${st.mtimeMs}:${st.size}`;
    if (this.cached?.key === key) return this.cached.value;
    const value = await readJson<T>(this.path);
    if (value !== undefined) this.cached = { key, value };
    return value;
  }

  /**
   * `fn` gets a private copy (a fresh `initial()` when the document does not exist yet; without
   * `initial` that is NOT_FOUND) and says whether it changed it; a changed or new document is
   * written back before the lock is released.
   */
  async update<R>(
    fn: (doc: T) => Promise<{ changed: boolean; value: R }> | { changed: boolean; value: R },
    initial?: () => T,
  ): Promise<R> {
    return withLock(`${this.path}.lock`, async () => {
      const current = await readJson<T>(this.path);
      if (current === undefined && !initial) throw new StoreError('NOT_FOUND', `${this.path} does not exist`);
      const doc = current ?? initial!();
      const { changed, value } = await fn(doc);
      if (changed || current === undefined) await writeFileAtomic(this.path, JSON.stringify(doc));
      return value;
    });
  }
}
