/**
 * Deleting mail must work on a full disk (issue 19, item 7). Marking `\Deleted`, EXPUNGE,
 * MOVE to Trash, DELETE of a mailbox and the POP3 maildrop lock each write a little before
 * they free anything — a lock file, a log frame, a new registry — and on a full disk those
 * writes fail with ENOSPC, so a user could never make room.
 *
 * The store therefore keeps a reserve: a file of real (random, so no file system can
 * compress it away) bytes under the store root, made at open. An operation that frees space
 * and hits ENOSPC releases the reserve and runs again; when the operation ends, the reserve is
 * made again if the space is back. Writes that take space (deliveries, APPEND, COPY, posts,
 * the queue) never use it: they first check that the reserve is held, try to make it again
 * if not, and fail with StoreError 'FULL' when that is impossible, so the space an expunge
 * gave back goes to the reserve before any new mail. ENOSPC and EDQUOT on those writes become
 * 'FULL' too (IMAP `NO [OVERQUOTA]`, SMTP `452 4.3.1`, POP3 `-ERR [SYS/TEMP]`).
 */
import { randomBytes } from 'node:crypto';
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../types.js';
import { isErrno, uniqueToken } from './fsutil.js';

export const RESERVE_FILE = 'space-reserve';
const MIN_RESERVE = 64 * 1024;
const MAX_RESERVE = 1024 * 1024;
const CHUNK = 64 * 1024;

/** ENOSPC (no space left on the device) or EDQUOT (the owner's disk quota is used up). */
export function isNoSpace(err: unknown): boolean {
  return isErrno(err, 'ENOSPC') || isErrno(err, 'EDQUOT');
}

/** A no-space error as the store reports it; anything else as it is. */
export function fullError(err: unknown): unknown {
  if (!isNoSpace(err)) return err;
  return new StoreError('FULL', 'not enough disk space', { cause: err });
}

export class SpaceReserve {
  readonly path: string;
  private bytes = 0;
  /** One re-creation at a time; callers meanwhile share its outcome. */
  private making: Promise<boolean> | undefined;

  constructor(private readonly root: string) {
    this.path = join(root, RESERVE_FILE);
  }

  /**
   * At open: 1 % of the file system, between 64 KiB and 1 MiB (256 blocks of 4 KiB: each
   * freeing operation needs a few, and gives back more); made if there is room.
   */
  async open(): Promise<void> {
    let total = 0;
    try {
      const st = await fsp.statfs(this.root);
      total = st.blocks * st.bsize;
    } catch {
      // No statfs here: the upper bound.
    }
    this.bytes =
      total > 0 ? Math.min(MAX_RESERVE, Math.max(MIN_RESERVE, Math.floor(total / 100))) : MAX_RESERVE;
    await this.ensure();
  }

  get size(): number {
    return this.bytes;
  }

  /** Is the reserve file there, whole? */
  async held(): Promise<boolean> {
    try {
      return (await fsp.stat(this.path)).size >= this.bytes;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return false;
      throw err;
    }
  }

  /** Make the reserve if it is missing; false when there is no room for it. */
  ensure(): Promise<boolean> {
    return (this.making ??= this.make().finally(() => (this.making = undefined)));
  }

  private async make(): Promise<boolean> {
    if (await this.held()) return true;
    const tmp = `${this.path}.tmp-${uniqueToken()}`;
    let h: fsp.FileHandle | undefined;
    try {
      h = await fsp.open(tmp, 'wx', 0o600);
      for (let off = 0; off < this.bytes; off += CHUNK)
        await h.write(randomBytes(Math.min(CHUNK, this.bytes - off)));
      await h.sync();
      await h.close();
      h = undefined;
      await fsp.rename(tmp, this.path);
      return true;
    } catch (err) {
      await h?.close().catch(() => undefined);
      await fsp.rm(tmp, { force: true });
      if (isNoSpace(err)) return false;
      throw err;
    }
  }

  /** Give the reserve's space back to the file system. */
  async release(): Promise<void> {
    await fsp.rm(this.path, { force: true });
  }

  /**
   * Run an operation that frees space (or at least must not be stopped by a full disk): on
   * ENOSPC/EDQUOT the reserve is released and the operation runs once more. `fn` must be
   * safe to run again after a failure (the callers' writes are undone or idempotent).
   */
  async freeing<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await this.retry(fn);
    } finally {
      // What the operation freed goes to the reserve first (a no-op when it is held).
      await this.ensure().catch(() => false);
    }
  }

  /**
   * `fn`, and on ENOSPC/EDQUOT `fn` again once the reserve is released. A second failure is
   * StoreError 'FULL', so an outer `freeing` does not run its whole operation again (a step
   * inside one, such as the expunge half of a MOVE, retries on its own).
   */
  async retry<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      if (!isNoSpace(err)) throw err;
      await this.release();
      try {
        return await fn();
      } catch (again) {
        throw fullError(again);
      }
    }
  }

  /**
   * Run a write that takes space: only while the reserve is held (made again first if the
   * space is back), and with no-space errors reported as 'FULL'.
   */
  async taking<T>(fn: () => Promise<T>): Promise<T> {
    if (!(await this.ensure()))
      throw new StoreError('FULL', 'not enough disk space (the reserve for deletions is not kept)');
    try {
      return await fn();
    } catch (err) {
      throw fullError(err);
    }
  }
}
