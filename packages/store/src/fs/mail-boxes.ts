/**
 * Finding mailboxes: (user, name) → registry record → replayed MailboxLog, cached per store
 * handle and caught up with the file on every use. Also the change feed: listeners are kept
 * by (user, name); own writes are published as they are applied, other processes' writes
 * when a directory watch on the mailbox sees its log change.
 */
import type { FSWatcher } from 'node:fs';
import type { MailChange, MailboxInfo } from '../types.js';
import { StoreError } from '../types.js';
import { watchLog } from './dir-watch.js';
import { Layout } from './layout.js';
import { MailboxLog } from './mailbox-log.js';
import { MailRegistry, type BoxRecord } from './mail-registry.js';

export interface OpenBox {
  user: string;
  record: BoxRecord;
  log: MailboxLog;
}

export function canonicalMailbox(name: string): string {
  return name.toUpperCase() === 'INBOX' ? 'INBOX' : name;
}

export class Boxes {
  private readonly registries = new Map<string, MailRegistry>();
  private readonly logs = new Map<string, MailboxLog>();
  private readonly feeds = new Map<
    string,
    { listeners: Set<(c: MailChange) => void>; watcher?: FSWatcher; closed: boolean; ready: Promise<void> }
  >();

  constructor(
    readonly layout: Layout,
    /** Canonical form of a user address (the accounts' rule). */
    readonly canonicalUser: (user: string) => string,
  ) {}

  registry(user: string): MailRegistry {
    const key = this.canonicalUser(user);
    let r = this.registries.get(key);
    if (!r) {
      r = new MailRegistry(this.layout.userDir(key));
      this.registries.set(key, r);
    }
    return r;
  }

  logFor(user: string, record: BoxRecord): MailboxLog {
    const dir = this.registry(user).boxDir(record.id);
    let log = this.logs.get(dir);
    if (!log) {
      log = new MailboxLog(dir);
      const feedKey = this.feedKey(user, record.name);
      log.watch((c) => this.dispatch(feedKey, c));
      this.logs.set(dir, log);
    }
    return log;
  }

  forget(user: string, record: BoxRecord): void {
    this.logs.delete(this.registry(user).boxDir(record.id));
  }

  /** The mailbox, caught up; undefined when the user or mailbox does not exist. */
  async find(user: string, name: string): Promise<OpenBox | undefined> {
    const record = await this.registry(user).find(canonicalMailbox(name));
    if (!record) return undefined;
    const log = this.logFor(user, record);
    try {
      await log.refresh();
    } catch (err) {
      // Deleted by another process between reading the registry and the log.
      if (err instanceof StoreError && err.code === 'NOT_FOUND') return undefined;
      throw err;
    }
    return { user: this.canonicalUser(user), record, log };
  }

  async get(user: string, name: string): Promise<OpenBox> {
    const box = await this.find(user, name);
    if (!box) throw new StoreError('NOT_FOUND', 'no such mailbox');
    return box;
  }

  info(box: OpenBox): MailboxInfo {
    const unseen = box.log.messages.countWithout('\\Seen');
    return {
      name: box.record.name,
      specialUse: box.record.specialUse,
      uidValidity: box.record.uidValidity,
      uidNext: box.log.uidNext,
      highestModseq: box.log.highestModseq,
      messages: box.log.messages.size,
      unseen,
      recent: 0,
      subscribed: box.record.subscribed,
    };
  }

  // ---- change feed ---------------------------------------------------------------------------

  private feedKey(user: string, name: string): string {
    return `${this.canonicalUser(user)}\0${canonicalMailbox(name)}`;
  }

  dispatch(key: string, change: MailChange): void {
    const feed = this.feeds.get(key);
    if (!feed) return;
    for (const l of [...feed.listeners]) {
      try {
        l(change);
      } catch {
        // A listener's failure must not break the writer or other listeners.
      }
    }
  }

  publishDeleted(user: string, name: string): void {
    this.dispatch(this.feedKey(user, name), { kind: 'deleted' });
  }

  watch(user: string, name: string, listener: (c: MailChange) => void): () => void {
    const key = this.feedKey(user, name);
    let feed = this.feeds.get(key);
    if (!feed) {
      const f: {
        listeners: Set<(c: MailChange) => void>;
        watcher?: FSWatcher;
        closed: boolean;
        ready: Promise<void>;
      } = {
        listeners: new Set(),
        closed: false,
        ready: Promise.resolve(),
      };
      f.ready = this.watchFiles(user, name, f);
      this.feeds.set(key, f);
      feed = f;
    }
    feed.listeners.add(listener);
    return () => {
      feed.listeners.delete(listener);
      if (feed.listeners.size === 0 && this.feeds.get(key) === feed) {
        feed.closed = true;
        feed.watcher?.close();
        this.feeds.delete(key);
      }
    };
  }

  /** Resolves once the feed of (user, mailbox) also watches the files (for tests). */
  async feedReady(user: string, name: string): Promise<void> {
    await this.feeds.get(this.feedKey(user, name))?.ready;
  }

  /** Cross-process half of the feed: when another process changes the log, replay its tail. */
  private async watchFiles(
    user: string,
    name: string,
    feed: { watcher?: FSWatcher; closed: boolean },
  ): Promise<void> {
    const box = await this.find(user, name).catch(() => undefined);
    if (!box || feed.closed) return;
    feed.watcher = watchLog(box.log.dir, () => box.log.refresh());
  }

  close(): void {
    for (const feed of this.feeds.values()) {
      feed.closed = true;
      feed.watcher?.close();
    }
    this.feeds.clear();
  }
}
