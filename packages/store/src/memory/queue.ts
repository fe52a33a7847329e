/** The outbound queue in memory: leases that expire, deferrals, failures. */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import { bytesStream, readSource } from '../common/index.js';
import { StoreError } from '../types.js';
import type { MessageSource, Queue, QueueEnvelope, QueueItem } from '../types.js';

interface Entry {
  item: QueueItem;
  leaseUntil: number;
  bytes: Buffer;
}

const view = (e: Entry): QueueItem => ({
  ...e.item,
  pending: [...e.item.pending],
  envelope: { ...e.item.envelope, to: [...e.item.envelope.to] },
});

export class MemoryQueue implements Queue {
  private readonly entries = new Map<string, Entry>();

  private entry(id: string): Entry {
    const e = this.entries.get(id);
    if (!e) throw new StoreError('NOT_FOUND', 'no such queue item');
    return e;
  }

  async enqueue(envelope: QueueEnvelope, message: MessageSource): Promise<string> {
    const bytes = await readSource(message);
    const id = `${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
    const now = new Date();
    this.entries.set(id, {
      item: {
        id,
        envelope: { ...envelope, to: [...envelope.to] },
        pending: [...envelope.to],
        attempts: 0,
        createdAt: now,
        nextAttemptAt: now,
        lastError: null,
        state: 'queued',
        size: bytes.length,
      },
      leaseUntil: 0,
      bytes,
    });
    return id;
  }

  async claim(limit: number, leaseMs: number, now = new Date()): Promise<QueueItem[]> {
    const t = now.getTime();
    const out: QueueItem[] = [];
    // Oldest due first, so a busy queue cannot starve an early item.
    const byDue = [...this.entries.values()].sort(
      (a, b) => a.item.nextAttemptAt.getTime() - b.item.nextAttemptAt.getTime(),
    );
    for (const e of byDue) {
      if (out.length >= limit) break;
      const due =
        (e.item.state === 'queued' && e.item.nextAttemptAt.getTime() <= t) ||
        (e.item.state === 'leased' && e.leaseUntil <= t);
      if (!due) continue;
      e.item.state = 'leased';
      e.leaseUntil = t + leaseMs;
      out.push(view(e));
    }
    return out;
  }

  async openMessage(id: string): Promise<Readable> {
    return bytesStream(this.entry(id).bytes);
  }

  async defer(id: string, nextAttemptAt: Date, reason: string, pending?: string[]): Promise<void> {
    const e = this.entry(id);
    Object.assign(e.item, {
      state: 'queued',
      attempts: e.item.attempts + 1,
      nextAttemptAt,
      lastError: reason,
    });
    if (pending) e.item.pending = [...pending];
    e.leaseUntil = 0;
  }

  async complete(id: string): Promise<void> {
    this.entry(id);
    this.entries.delete(id);
  }

  async fail(id: string, reason: string): Promise<void> {
    const e = this.entry(id);
    Object.assign(e.item, { state: 'failed', attempts: e.item.attempts + 1, lastError: reason });
    e.leaseUntil = 0;
  }

  async list(): Promise<QueueItem[]> {
    return [...this.entries.values()].map(view);
  }

  async get(id: string): Promise<QueueItem | undefined> {
    const e = this.entries.get(id);
    return e && view(e);
  }

  async delete(id: string): Promise<boolean> {
    return this.entries.delete(id);
  }

  async flush(): Promise<number> {
    let n = 0;
    const now = new Date();
    for (const e of this.entries.values()) {
      if (e.item.state !== 'queued') continue;
      e.item.nextAttemptAt = now;
      n++;
    }
    return n;
  }
}
