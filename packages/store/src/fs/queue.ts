/**
 * The fs outbound queue: each item is queue/<id>.eml (the message, fsynced) and
 * queue/<id>.json (its state, atomically replaced). State changes are serialized across
 * processes by one queue lock, so two relay workers never lease the same item.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { MessageSource, Queue, QueueEnvelope, QueueItem } from '../types.js';
import { StoreError } from '../types.js';
import {
  ensureDir,
  fsyncDir,
  isErrno,
  readJson,
  spoolMessage,
  uniqueToken,
  writeFileAtomic,
} from './fsutil.js';
import type { Layout } from './layout.js';
import { withLock } from './lock.js';
import { openFileStream } from './read-stream.js';
import type { SpaceReserve } from './space-reserve.js';

interface ItemFile {
  id: string;
  envelope: QueueEnvelope;
  pending: string[];
  attempts: number;
  createdAt: number;
  nextAttemptAt: number;
  lastError: string | null;
  state: QueueItem['state'];
  size: number;
  leaseUntil: number | null;
}

const ID = /^[0-9a-z]+-[0-9a-f]+$/;

export class FsQueue implements Queue {
  constructor(
    private readonly layout: Layout,
    private readonly space: SpaceReserve,
  ) {}

  private get dir(): string {
    return this.layout.queueDir;
  }
  private path(id: string, ext: 'eml' | 'json'): string {
    // Ids are ours, but they come back from callers: never let one walk out of the queue.
    if (!ID.test(id)) throw new StoreError('NOT_FOUND', 'no such queue item');
    return join(this.dir, `${id}.${ext}`);
  }

  private async locked<T>(fn: () => Promise<T>): Promise<T> {
    // The relay worker claims before anything was ever queued: the lock needs its directory.
    await ensureDir(this.dir);
    return withLock(join(this.dir, 'queue.lock'), fn);
  }

  private async load(id: string): Promise<ItemFile | undefined> {
    try {
      return await readJson<ItemFile>(this.path(id, 'json'));
    } catch (err) {
      if (err instanceof StoreError || isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  private async all(): Promise<ItemFile[]> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return [];
      throw err;
    }
    const out: ItemFile[] = [];
    for (const n of names) {
      if (!n.endsWith('.json')) continue;
      const item = await this.load(n.slice(0, -5));
      if (item) out.push(item);
    }
    return out.sort((a, b) => a.createdAt - b.createdAt || (a.id < b.id ? -1 : 1));
  }

  private save(item: ItemFile): Promise<void> {
    return writeFileAtomic(this.path(item.id, 'json'), JSON.stringify(item));
  }

  private async change(id: string, fn: (item: ItemFile) => void): Promise<void> {
    await this.locked(async () => {
      const item = await this.load(id);
      if (!item) throw new StoreError('NOT_FOUND', 'no such queue item');
      fn(item);
      await this.save(item);
    });
  }

  enqueue(envelope: QueueEnvelope, message: MessageSource): Promise<string> {
    return this.space.taking(() => this.enqueueNow(envelope, message));
  }

  private async enqueueNow(envelope: QueueEnvelope, message: MessageSource): Promise<string> {
    await ensureDir(this.dir);
    await ensureDir(this.layout.tmp);
    const id = `${Date.now().toString(36)}-${uniqueToken().split('.').pop()}`;
    const spooled = await spoolMessage(this.layout.tmp, message);
    try {
      await fsp.link(spooled.path, this.path(id, 'eml'));
      await fsyncDir(this.dir);
    } finally {
      await fsp.rm(spooled.path, { force: true });
    }
    const now = Date.now();
    // The .json appears last: an item without one is an unacknowledged leftover.
    try {
      await this.save({
        id,
        envelope,
        pending: [...envelope.to],
        attempts: 0,
        createdAt: now,
        nextAttemptAt: now,
        lastError: null,
        state: 'queued',
        size: spooled.size,
        leaseUntil: null,
      });
    } catch (err) {
      await fsp.rm(this.path(id, 'eml'), { force: true });
      throw err;
    }
    return id;
  }

  async claim(limit: number, leaseMs: number, now = new Date()): Promise<QueueItem[]> {
    if (limit <= 0) return [];
    return this.locked(async () => {
      const t = now.getTime();
      const out: QueueItem[] = [];
      for (const item of await this.all()) {
        if (out.length >= limit) break;
        const due =
          (item.state === 'queued' && item.nextAttemptAt <= t) ||
          (item.state === 'leased' && (item.leaseUntil ?? 0) <= t);
        if (!due) continue;
        item.state = 'leased';
        item.leaseUntil = t + leaseMs;
        await this.save(item);
        out.push(view(item));
      }
      return out;
    });
  }

  async openMessage(id: string): Promise<Readable> {
    return openFileStream(this.path(id, 'eml'));
  }

  async defer(id: string, nextAttemptAt: Date, reason: string, pending?: string[]): Promise<void> {
    await this.change(id, (item) => {
      item.state = 'queued';
      item.leaseUntil = null;
      item.attempts++;
      item.nextAttemptAt = nextAttemptAt.getTime();
      item.lastError = reason;
      if (pending) item.pending = [...pending];
    });
  }

  async complete(id: string): Promise<void> {
    await this.locked(async () => {
      if (!(await this.load(id))) throw new StoreError('NOT_FOUND', 'no such queue item');
      await this.remove(id);
    });
  }

  async fail(id: string, reason: string): Promise<void> {
    await this.change(id, (item) => {
      item.state = 'failed';
      item.leaseUntil = null;
      item.attempts++;
      item.lastError = reason;
    });
  }

  async list(): Promise<QueueItem[]> {
    return (await this.all()).map(view);
  }

  async get(id: string): Promise<QueueItem | undefined> {
    const item = await this.load(id);
    return item && view(item);
  }

  async delete(id: string): Promise<boolean> {
    return this.locked(async () => {
      if (!(await this.load(id))) return false;
      await this.remove(id);
      return true;
    });
  }

  private async remove(id: string): Promise<void> {
    await fsp.rm(this.path(id, 'json'), { force: true });
    await fsp.rm(this.path(id, 'eml'), { force: true });
    await fsyncDir(this.dir);
  }

  async flush(): Promise<number> {
    return this.locked(async () => {
      let n = 0;
      const now = Date.now();
      for (const item of await this.all()) {
        if (item.state !== 'queued') continue;
        item.nextAttemptAt = now;
        await this.save(item);
        n++;
      }
      return n;
    });
  }
}

function view(f: ItemFile): QueueItem {
  return {
    id: f.id,
    envelope: structuredClone(f.envelope),
    pending: [...f.pending],
    attempts: f.attempts,
    createdAt: new Date(f.createdAt),
    nextAttemptAt: new Date(f.nextAttemptAt),
    lastError: f.lastError,
    state: f.state,
    size: f.size,
  };
}
