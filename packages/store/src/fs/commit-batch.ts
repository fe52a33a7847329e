/**
 * Group commit for new messages. While one commit to a mailbox holds its writer lock, the
 * next ones from this process gather and then go in together: one directory fsync and one
 * log write+fdatasync for the lot instead of one each. Each caller still resolves only
 * after its own message is durable.
 */
import type { MailboxLog } from './mailbox-log.js';
import { commitNew, maybeCompact, type Incoming } from './mail-write.js';

interface Waiter {
  item: Incoming;
  resolve(r: { uid: number; modseq: number }): void;
  reject(err: unknown): void;
}

export class CommitBatcher {
  private readonly gathering = new Map<MailboxLog, Waiter[]>();

  commit(log: MailboxLog, item: Incoming): Promise<{ uid: number; modseq: number }> {
    return new Promise((resolve, reject) => {
      const queue = this.gathering.get(log);
      if (queue) return void queue.push({ item, resolve, reject });
      this.gathering.set(log, [{ item, resolve, reject }]);
      void this.flush(log);
    });
  }

  private async flush(log: MailboxLog): Promise<void> {
    let batch: Waiter[] = [];
    try {
      // Others arriving while we wait for the lock join this batch.
      const lock = await log.lockForWrite().finally(() => {
        batch = this.gathering.get(log) ?? [];
        this.gathering.delete(log);
      });
      try {
        const results = await commitNew(
          log,
          batch.map((w) => w.item),
        );
        batch.forEach((w, i) => w.resolve(results[i]));
        await maybeCompact(log).catch(() => undefined);
      } finally {
        await lock.release();
      }
    } catch (err) {
      for (const w of batch) w.reject(err);
    }
  }
}
