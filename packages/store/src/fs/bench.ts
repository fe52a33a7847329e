/**
 * Measurements of the fs backend, callable from the benchmark suite or a script:
 * how long a fresh handle takes to open a big mailbox (replay its log into the UID list
 * with flags), and how many durable deliveries per second it takes.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Store } from '../types.js';
import { RecordType, type MailRecord } from './log-codec.js';
import type { FsStore } from './store.js';

export interface FsBenchOptions {
  /** Store directory to use (default: a temp dir, removed afterwards). */
  dir?: string;
  open: (dir: string) => Promise<Store>;
  /** Messages in the mailbox whose open time is measured (default 100 000). */
  mailboxSize?: number;
  /** Deliveries timed per message size (default 200). */
  deliveries?: number;
  /** Message sizes in bytes (default 1 KiB and 100 KiB). */
  sizes?: number[];
  /** Concurrent deliveries to one mailbox (default 1 and 16: group commit shows at 16). */
  parallel?: number[];
}

export interface FsBenchResult {
  mailboxSize: number;
  /** Fresh handle, warm page cache: getMailbox + list of every UID with flags; each run and the median. */
  openMs: number[];
  openMedianMs: number;
  /** Keyed '<size>B x<parallel>'. */
  deliveriesPerSecond: Record<string, number>;
}

const USER = 'bench@example.com';

function message(size: number, i: number): Buffer {
  const head = `From: a@example.com\r\nTo: ${USER}\r\nSubject: bench ${i}\r\nMessage-ID: <b${i}@example.com>\r\n\r\n`;
  const body = Buffer.alloc(Math.max(0, size - head.length), 'x');
  for (let p = 76; p < body.length; p += 78) body.write('\r\n', p - 2);
  return Buffer.concat([Buffer.from(head), body]);
}

/**
 * Fill a mailbox with `n` index entries quickly (batched frames, no message files): enough
 * for measuring the replay of the log, which is what opening a mailbox costs.
 */
export async function fillMailboxLog(
  store: FsStore,
  user: string,
  mailbox: string,
  n: number,
): Promise<void> {
  const box = await store.mail.boxes.get(user, mailbox);
  const lock = await box.log.lockForWrite();
  try {
    const flagSets = [[], ['\\Seen'], ['\\Seen', '\\Answered'], ['\\Flagged', '$Label1']];
    let uid = box.log.uidNext;
    let modseq = box.log.highestModseq;
    for (let done = 0; done < n;) {
      const batch: MailRecord[] = [];
      for (; batch.length < 10_000 && done < n; done++) {
        batch.push({
          type: RecordType.New,
          uid: uid++,
          modseq: ++modseq,
          size: 1000 + (done % 5000),
          internalDate: Date.now(),
          flags: flagSets[done % 4],
        });
      }
      await box.log.append(batch);
    }
  } finally {
    await lock.release();
  }
}

export async function measureFsStore(options: FsBenchOptions): Promise<FsBenchResult> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'postern-fsbench-')));
  const n = options.mailboxSize ?? 100_000;
  try {
    const setup = (await options.open(dir)) as FsStore;
    if (!(await setup.accounts.hasUser(USER))) await setup.accounts.addUser(USER, 'bench');
    if (!(await setup.mail.getMailbox(USER, 'Big'))) {
      await setup.mail.createMailbox(USER, 'Big');
      await fillMailboxLog(setup, USER, 'Big', n);
    }
    const deliveriesPerSecond: Record<string, number> = {};
    for (const size of options.sizes ?? [1024, 100 * 1024]) {
      for (const parallel of options.parallel ?? [1, 16]) {
        const count = options.deliveries ?? 200;
        const msgs = Array.from({ length: count }, (_, i) => message(size, i));
        await setup.mail.deliver([{ user: USER }], msgs[0]); // warm-up
        let next = 0;
        const t0 = performance.now();
        await Promise.all(
          Array.from({ length: parallel }, async () => {
            while (next < count) await setup.mail.deliver([{ user: USER }], msgs[next++]);
          }),
        );
        deliveriesPerSecond[`${size}B x${parallel}`] = Math.round((count / (performance.now() - t0)) * 1000);
      }
    }
    await setup.close();

    const openMs: number[] = [];
    for (let run = 0; run < 5; run++) {
      const fresh = await options.open(dir);
      const t0 = performance.now();
      await fresh.mail.getMailbox(USER, 'Big');
      const list = await fresh.mail.list(USER, 'Big');
      openMs.push(Math.round((performance.now() - t0) * 10) / 10);
      if (list.length !== n) throw new Error(`expected ${n} messages, listed ${list.length}`);
      await fresh.close();
    }
    const sorted = [...openMs].sort((a, b) => a - b);
    return {
      mailboxSize: n,
      openMs,
      openMedianMs: sorted[Math.floor(sorted.length / 2)],
      deliveriesPerSecond,
    };
  } finally {
    if (!options.dir) await rm(dir, { recursive: true, force: true });
  }
}
