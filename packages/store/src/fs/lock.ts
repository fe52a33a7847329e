/**
 * Cross-process locks made of lock files. Node has no flock(), so a lock is a file created
 * atomically (a fully written temp file hard-linked into place: the link fails with EEXIST
 * when someone holds it) that names its owner: pid plus the process start time, so a reused
 * pid is not mistaken for the crashed owner. A lock whose owner is dead (SIGKILL, crash) or
 * whose lease expired is broken by renaming it aside, which only one breaker can win.
 */
import { readFileSync } from 'node:fs';
import { promises as fsp } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { StoreError } from '../types.js';
import { isErrno, uniqueToken } from './fsutil.js';

interface Owner {
  pid: number;
  start: string;
  token: string;
  /** Epoch ms after which the lock may be broken even if its owner lives; null = never. */
  expiresAt: number | null;
}

function processStart(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // Field 22 (starttime) comes after the parenthesised command name, which may hold spaces.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return rest[19] ?? '';
  } catch {
    return null;
  }
}

const ownStart = processStart(process.pid) ?? '';

function ownerAlive(o: Owner): boolean {
  if (o.pid === process.pid) return o.start === ownStart;
  const start = processStart(o.pid);
  if (start !== null) return start === o.start;
  if (ownStart !== '') return false; // /proc works here, so the pid is gone
  // No /proc (not Linux): signal 0 tells whether the pid exists.
  try {
    process.kill(o.pid, 0);
    return true;
  } catch (err) {
    return isErrno(err, 'EPERM');
  }
}

async function readOwner(path: string): Promise<Owner | undefined> {
  try {
    return JSON.parse(await fsp.readFile(path, 'utf8')) as Owner;
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return undefined;
    // A lock file is linked in fully written, so garbage means corruption: treat as stale.
    return { pid: -1, start: '', token: 'corrupt', expiresAt: 0 };
  }
}

export class FileLock {
  private released = false;
  constructor(
    readonly path: string,
    readonly token: string,
    private readonly onRelease?: () => void,
  ) {}

  /** True while the lock file still names us (a holder presumed dead may have been broken). */
  async stillHeld(): Promise<boolean> {
    return (await readOwner(this.path))?.token === this.token;
  }

  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    try {
      if ((await readOwner(this.path))?.token === this.token) await fsp.rm(this.path, { force: true });
    } finally {
      this.onRelease?.();
    }
  }
}

/** One attempt: the lock, or undefined when a live owner holds it. Breaks stale locks. */
export async function tryLockFile(path: string, ttlMs?: number): Promise<FileLock | undefined> {
  const token = uniqueToken();
  const owner: Owner = {
    pid: process.pid,
    start: ownStart,
    token,
    expiresAt: ttlMs === undefined ? null : Date.now() + ttlMs,
  };
  const tmp = `${path}.${token}`;
  try {
    await fsp.writeFile(tmp, JSON.stringify(owner), { mode: 0o600 });
  } catch (err) {
    // A full disk can leave the temp file made but empty: never leave it behind.
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  try {
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await fsp.link(tmp, path);
        return new FileLock(path, token);
      } catch (err) {
        if (!isErrno(err, 'EEXIST')) throw err;
      }
      const current = await readOwner(path);
      if (current === undefined) continue; // released between our link and read: try again
      const dead = !ownerAlive(current);
      if (!dead && !(current.expiresAt !== null && current.expiresAt < Date.now())) return undefined;
      await breakStale(path, current.token);
      // A dead owner may also have left its temp file (killed between writing and linking it).
      if (dead && current.pid > 0) await fsp.rm(`${path}.${current.token}`, { force: true });
    }
    return undefined;
  } finally {
    await fsp.rm(tmp, { force: true });
  }
}

async function breakStale(path: string, staleToken: string): Promise<void> {
  const aside = `${path}.stale-${uniqueToken()}`;
  try {
    await fsp.rename(path, aside);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) return; // someone else broke or released it
    throw err;
  }
  const moved = await readOwner(aside);
  if (moved !== undefined && moved.token !== staleToken) {
    // We raced another breaker and moved a live lock aside: put it back if the slot is free.
    try {
      await fsp.link(aside, path);
    } catch (err) {
      if (!isErrno(err, 'EEXIST')) throw err;
    }
  }
  await fsp.rm(aside, { force: true });
}

/** In-process queues, so handles in one process wait their turn instead of polling. */
const localQueues = new Map<string, Promise<void>>();

/**
 * Wait for the lock (exclusive across processes and across handles in this process).
 * Throws StoreError 'LOCKED' after `timeoutMs`.
 */
export async function lockFile(path: string, timeoutMs = 30_000): Promise<FileLock> {
  const previous = localQueues.get(path) ?? Promise.resolve();
  let releaseLocal!: () => void;
  const mine = new Promise<void>((resolve) => (releaseLocal = resolve));
  const tail = previous.then(() => mine);
  localQueues.set(path, tail);
  const done = (): void => {
    releaseLocal();
    if (localQueues.get(path) === tail) localQueues.delete(path);
  };
  await previous;
  const deadline = Date.now() + timeoutMs;
  let delay = 1;
  try {
    for (;;) {
      const lock = await tryLockFile(path);
      if (lock) return new FileLock(lock.path, lock.token, done);
      if (Date.now() > deadline) throw new StoreError('LOCKED', `lock busy: ${path}`);
      await sleep(delay);
      delay = Math.min(delay * 2, 25);
    }
  } catch (err) {
    done();
    throw err;
  }
}

/** Run `fn` holding the lock at `path`. */
export async function withLock<T>(path: string, fn: (lock: FileLock) => Promise<T>): Promise<T> {
  const lock = await lockFile(path);
  try {
    return await fn(lock);
  } finally {
    await lock.release();
  }
}
