/**
 * An index log file and the state it replays into; the part shared by mailbox and newsgroup
 * logs. Readers replay without a lock and pick up frames other processes appended (one stat
 * per call); writers take the writer lock, catch up, cut a torn tail left by a crashed
 * writer, append with one write plus fdatasync, and only then resolve. Compaction writes a
 * new log beside the old one and renames it into place; readers notice the new inode and
 * replay from the start.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { StoreError } from '../types.js';
import { encodeRecord, type LogHeader, type MailRecord, RecordType, scanFrames } from './log-codec.js';
import { fsyncDir, isErrno, uniqueToken } from './fsutil.js';
import { lockFile, type FileLock } from './lock.js';

export const LOG_FILE = 'log';
export const LOCK_FILE = 'writer.lock';

export abstract class AppendLog<Change> {
  header: LogHeader = freshHeader(0);
  /** Frames that no longer describe live state: what compaction would save. */
  deadFrames = 0;
  private offset = 0;
  /**
   * Which file we replayed: inode plus birth time, because a file system reuses the inode of
   * a log that compaction replaced, and an inode alone could then look like the same file.
   */
  private identity = '';
  private readonly listeners = new Set<(c: Change) => void>();
  /** Replays and appends of this object run one at a time, or a tail could be applied twice. */
  private queue: Promise<unknown> = Promise.resolve();

  constructor(readonly dir: string) {}

  get logPath(): string {
    return join(this.dir, LOG_FILE);
  }

  /** Forget all replayed state (before a full replay). */
  protected abstract reset(): void;
  /** Replay one record; push what changed to `changes` when given. */
  protected abstract apply(r: MailRecord, changes: Change[] | undefined): void;
  /** What changed between the state before a full replay and now (for watchers). */
  protected abstract snapshot(): unknown;
  protected abstract diff(before: unknown): Change[];
  /** Frames, after the header, that recreate the live state. */
  protected abstract liveRecords(): MailRecord[];

  /** Write a fresh log (creation). The directory must exist. */
  static async createFile(dir: string, header: LogHeader): Promise<void> {
    const tmp = join(dir, `${LOG_FILE}.new-${uniqueToken()}`);
    await writeSynced(tmp, encodeRecord({ type: RecordType.Header, header }));
    await fsp.rename(tmp, join(dir, LOG_FILE));
    await fsyncDir(dir);
  }

  protected exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Catch up with the file: new frames from others, or a whole replay after compaction. */
  refresh(): Promise<void> {
    return this.exclusive(() => this.catchUp());
  }

  private async catchUp(): Promise<void> {
    // The cheap, common case first: one stat says nothing changed.
    const st = await statLog(this.logPath);
    if (fileIdentity(st) === this.identity && st.size === this.offset) return;
    // Then read through one handle, checked with fstat, so the bytes come from the file
    // we identified even if compaction renames a new log into place meanwhile.
    let h: fsp.FileHandle;
    try {
      h = await fsp.open(this.logPath, 'r');
    } catch (err) {
      if (isErrno(err, 'ENOENT')) throw new StoreError('NOT_FOUND', 'log is gone');
      throw err;
    }
    try {
      const hst = await h.stat();
      const identity = fileIdentity(hst);
      // A shorter file than what we replayed cannot be ours: only torn bytes past it are ever cut.
      if (identity !== this.identity || hst.size < this.offset) return await this.reload(h, identity);
      const len = hst.size - this.offset;
      if (len <= 0) return;
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await h.read(buf, 0, len, this.offset);
      const changes: Change[] = [];
      this.offset += scanFrames(buf.subarray(0, bytesRead), 0, (r) => this.apply(r, changes));
      this.emit(changes);
    } finally {
      await h.close();
    }
  }

  private async reload(h: fsp.FileHandle, identity: string): Promise<void> {
    const before = this.identity === '' || this.listeners.size === 0 ? undefined : this.snapshot();
    const buf = await h.readFile();
    this.reset();
    this.deadFrames = 0;
    this.header = freshHeader(0);
    let first = true;
    const end = scanFrames(buf, 0, (r) => {
      if (first && r.type !== RecordType.Header)
        throw new StoreError('CORRUPT', `${this.logPath}: no header`);
      first = false;
      if (r.type === RecordType.Header) this.header = { ...r.header };
      else this.apply(r, undefined);
    });
    if (first) throw new StoreError('CORRUPT', `${this.logPath}: no header`);
    this.offset = end;
    this.identity = identity;
    if (before !== undefined) this.emit(this.diff(before));
  }

  /** Take the writer lock and catch up; a torn tail left by a crashed writer is cut off. */
  async lockForWrite(): Promise<FileLock> {
    const lock = await lockFile(join(this.dir, LOCK_FILE));
    try {
      await this.exclusive(async () => {
        await this.catchUp();
        const st = await fsp.stat(this.logPath);
        if (st.size > this.offset) await fsp.truncate(this.logPath, this.offset);
      });
    } catch (err) {
      await lock.release();
      throw err;
    }
    return lock;
  }

  /** Append records (the caller holds the writer lock); durable when this resolves. */
  append(records: MailRecord[]): Promise<void> {
    return this.exclusive(() => this.appendNow(records));
  }

  private async appendNow(records: MailRecord[]): Promise<void> {
    const buf = Buffer.concat(records.map(encodeRecord));
    const h = await fsp.open(this.logPath, 'a');
    try {
      let off = 0;
      while (off < buf.length) off += (await h.write(buf, off, buf.length - off)).bytesWritten;
      await h.datasync();
    } catch (err) {
      // A write cut short (a full disk) must not stay as a torn frame that a retry under the
      // same lock would append after: cut the file back to the last whole frame.
      await h.truncate(this.offset).catch(() => undefined);
      throw err;
    } finally {
      await h.close();
    }
    const changes: Change[] = [];
    for (const r of records) this.apply(r, changes);
    this.offset += buf.length;
    this.emit(changes);
  }

  /** Rewrite the log with only what is live (the caller holds the writer lock). */
  compact(): Promise<void> {
    return this.exclusive(() => this.rewrite());
  }

  private async rewrite(): Promise<void> {
    // Only the writer-lock holder compacts, so any earlier attempt's temp file is a dead writer's.
    for (const name of await fsp.readdir(this.dir)) {
      if (name.startsWith(`${LOG_FILE}.compact-`)) await fsp.rm(join(this.dir, name), { force: true });
    }
    const frames = [
      encodeRecord({ type: RecordType.Header, header: { ...this.header } }),
      ...this.liveRecords().map(encodeRecord),
    ];
    const tmp = join(this.dir, `${LOG_FILE}.compact-${uniqueToken()}`);
    try {
      await writeSynced(tmp, Buffer.concat(frames));
    } catch (err) {
      // On a full disk the half-written copy would hold on to the space it took.
      await fsp.rm(tmp, { force: true });
      throw err;
    }
    await fsp.rename(tmp, this.logPath);
    await fsyncDir(this.dir);
    const st = await fsp.stat(this.logPath);
    this.identity = fileIdentity(st);
    this.offset = st.size;
    this.deadFrames = 0;
  }

  watch(listener: (c: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  protected emit(changes: Change[]): void {
    if (changes.length === 0) return;
    for (const l of [...this.listeners]) {
      for (const c of changes) {
        try {
          l(c);
        } catch {
          // A listener's failure is its own; the write already happened.
        }
      }
    }
  }
}

async function statLog(path: string): Promise<{ ino: number; birthtimeMs: number; size: number }> {
  try {
    return await fsp.stat(path);
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new StoreError('NOT_FOUND', 'log is gone');
    throw err;
  }
}

function fileIdentity(st: { ino: number; birthtimeMs: number }): string {
  return `${st.ino}:${st.birthtimeMs}`;
}

export function freshHeader(uidValidity: number): LogHeader {
  return { v: 1, uidValidity, uidNext: 1, highestModseq: 0 };
}

export async function writeSynced(path: string, data: Buffer): Promise<void> {
  const h = await fsp.open(path, 'wx', 0o600);
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
}
