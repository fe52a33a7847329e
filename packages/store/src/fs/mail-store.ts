/**
 * The fs MailStore: mailboxes per user (registry + one index log each), messages as .eml
 * files hard-linked into each mailbox that holds them.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type {
  DeliveryTarget,
  FlagMode,
  MailboxInfo,
  MailboxLock,
  MailChange,
  MailStore,
  MessageIndex,
  MessageMeta,
  MessageSource,
  SpecialUse,
  UidRange,
  Unsubscribe,
} from '../types.js';
import { StoreError } from '../types.js';
import { ensureDir, isErrno } from './fsutil.js';
import { readIndexFile } from './index-file.js';
import { ingest, type Indexer, type Ingested } from './ingest.js';
import { Layout } from './layout.js';
import { tryLockFile } from './lock.js';
import { Boxes, canonicalMailbox, type OpenBox } from './mail-boxes.js';
import { CommitBatcher } from './commit-batch.js';
import { nextUidValidity, REGISTRY_FILE } from './mail-registry.js';
import { MailboxLog } from './mailbox-log.js';
import { commitExpunge, commitFlags, commitNew, maybeCompact } from './mail-write.js';
import { openFileStream } from './read-stream.js';
import type { SpaceReserve } from './space-reserve.js';

export interface MailNaming {
  canonicalUser(user: string): string;
  validateMailbox(name: string): void;
  delimiter: string;
}

const RECENT_INDEXES = 8;

export class FsMailStore implements MailStore {
  readonly boxes: Boxes;
  private readonly batcher = new CommitBatcher();

  constructor(
    private readonly layout: Layout,
    private readonly indexer: Indexer,
    private readonly naming: MailNaming,
    /** Writes that free space run through `space.freeing`, writes that take it `space.taking`. */
    private readonly space: SpaceReserve,
  ) {
    this.boxes = new Boxes(layout, naming.canonicalUser);
  }

  // ---- users (called by Accounts) ------------------------------------------------------------

  async provisionUser(
    user: string,
    mailboxes: Array<{ name: string; specialUse: SpecialUse | null }>,
  ): Promise<void> {
    const reg = this.boxes.registry(user);
    await ensureDir(reg.userDir);
    for (const mb of mailboxes) {
      if (!(await reg.find(mb.name)))
        await this.createMailbox(user, mb.name, mb.specialUse ?? undefined, true);
    }
  }

  async removeUser(user: string): Promise<void> {
    const reg = this.boxes.registry(user);
    const current = await reg.read();
    // Drop the registry first: from then on the user has no mailboxes, whatever remains on disk.
    await fsp.rm(join(reg.userDir, REGISTRY_FILE), { force: true });
    await fsp.rm(reg.userDir, { recursive: true, force: true });
    for (const b of current?.boxes ?? []) this.boxes.publishDeleted(user, b.name);
  }

  // ---- mailboxes -----------------------------------------------------------------------------

  async listMailboxes(user: string): Promise<MailboxInfo[]> {
    const reg = await this.boxes.registry(user).read();
    const out: MailboxInfo[] = [];
    for (const record of reg?.boxes ?? []) {
      const box = await this.boxes.find(user, record.name);
      if (box) out.push(this.boxes.info(box));
    }
    return out;
  }

  async getMailbox(user: string, mailbox: string): Promise<MailboxInfo | undefined> {
    const box = await this.boxes.find(user, mailbox);
    return box && this.boxes.info(box);
  }

  async createMailbox(
    user: string,
    mailbox: string,
    specialUse?: SpecialUse,
    allowMissingRegistry = false,
  ): Promise<MailboxInfo> {
    return this.space.taking(() => this.createMailboxNow(user, mailbox, specialUse, allowMissingRegistry));
  }

  private async createMailboxNow(
    user: string,
    mailbox: string,
    specialUse: SpecialUse | undefined,
    allowMissingRegistry: boolean,
  ): Promise<MailboxInfo> {
    const name = canonicalMailbox(mailbox);
    this.naming.validateMailbox(name);
    const reg = this.boxes.registry(user);
    if (!allowMissingRegistry && !(await reg.read())) throw new StoreError('NOT_FOUND', 'no such user');
    await reg.update(async (r) => {
      if (r.boxes.some((b) => b.name === name)) throw new StoreError('EXISTS', 'mailbox exists');
      const id = String(r.nextId++);
      const uidValidity = nextUidValidity(r);
      await MailboxLog.create(reg.boxDir(id), uidValidity);
      // Provisioned mailboxes start subscribed; others only under a kept subscription.
      const kept = r.keptSubscriptions?.includes(name) ?? false;
      const subscribed = allowMissingRegistry || kept;
      r.boxes.push({ name, id, specialUse: specialUse ?? null, subscribed, uidValidity });
      if (kept) r.keptSubscriptions = r.keptSubscriptions?.filter((n) => n !== name);
      return { changed: true, value: undefined };
    }, allowMissingRegistry);
    return (await this.getMailbox(user, name)) as MailboxInfo;
  }

  async deleteMailbox(user: string, mailbox: string): Promise<void> {
    return this.space.freeing(() => this.deleteMailboxNow(user, mailbox));
  }

  private async deleteMailboxNow(user: string, mailbox: string): Promise<void> {
    const name = canonicalMailbox(mailbox);
    if (name === 'INBOX') throw new StoreError('INVALID_NAME', 'INBOX cannot be deleted');
    const reg = this.boxes.registry(user);
    const record = await reg.update(async (r) => {
      const i = r.boxes.findIndex((b) => b.name === name);
      if (i < 0) throw new StoreError('NOT_FOUND', 'no such mailbox');
      const [rec] = r.boxes.splice(i, 1);
      if (rec.subscribed) r.keptSubscriptions = [...(r.keptSubscriptions ?? []), name];
      return { changed: true, value: rec };
    });
    this.boxes.forget(user, record);
    await fsp.rm(reg.boxDir(record.id), { recursive: true, force: true });
    this.boxes.publishDeleted(user, name);
  }

  async renameMailbox(user: string, from: string, to: string): Promise<void> {
    const src = canonicalMailbox(from);
    const dst = canonicalMailbox(to);
    this.naming.validateMailbox(dst);
    if (src === 'INBOX') return this.renameInbox(user, dst);
    const reg = this.boxes.registry(user);
    const d = this.naming.delimiter;
    const moved = await reg.update(async (r) => {
      if (!r.boxes.some((b) => b.name === src)) throw new StoreError('NOT_FOUND', 'no such mailbox');
      if (r.boxes.some((b) => b.name === dst)) throw new StoreError('EXISTS', 'target mailbox exists');
      const changed = [];
      for (const b of r.boxes) {
        if (b.name === src || b.name.startsWith(src + d)) {
          changed.push({ ...b });
          b.name = dst + b.name.slice(src.length);
          const kept = r.keptSubscriptions?.filter((n) => n !== b.name);
          if (kept && kept.length !== r.keptSubscriptions?.length) b.subscribed = true;
          if (kept) r.keptSubscriptions = kept;
        }
      }
      return { changed: true, value: changed };
    });
    for (const b of moved) {
      this.boxes.forget(user, b);
      this.boxes.publishDeleted(user, b.name);
    }
  }

  /** RFC 3501: renaming INBOX moves its messages to a new mailbox and leaves INBOX empty. */
  private async renameInbox(user: string, to: string): Promise<void> {
    await this.createMailbox(user, to);
    const inbox = await this.boxes.get(user, 'INBOX');
    await this.move(user, 'INBOX', [...inbox.log.messages.keys()], to);
  }

  async setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    const name = canonicalMailbox(mailbox);
    await this.boxes.registry(user).update(async (r) => {
      const b = r.boxes.find((x) => x.name === name);
      if (!b) {
        // Only a kept subscription of a deleted mailbox can be dropped (RFC 3501 §6.3.7).
        const kept = r.keptSubscriptions ?? [];
        if (subscribed || !kept.includes(name)) throw new StoreError('NOT_FOUND', 'no such mailbox');
        r.keptSubscriptions = kept.filter((n) => n !== name);
        return { changed: true, value: undefined };
      }
      const changed = b.subscribed !== subscribed;
      b.subscribed = subscribed;
      return { changed, value: undefined };
    });
  }

  async listSubscriptions(user: string): Promise<string[]> {
    const reg = await this.boxes.registry(user).read();
    return [
      ...(reg?.boxes ?? []).filter((b) => b.subscribed).map((b) => b.name),
      ...(reg?.keptSubscriptions ?? []),
    ];
  }

  // ---- writing messages ----------------------------------------------------------------------

  private async spool(message: MessageSource): Promise<Ingested> {
    await ensureDir(this.layout.tmp);
    return ingest(this.layout.tmp, message, this.indexer);
  }

  async append(
    user: string,
    mailbox: string,
    message: MessageSource,
    options?: { flags?: string[]; internalDate?: Date },
  ): Promise<{ uid: number; uidValidity: number; modseq: number }> {
    return this.space.taking(() => this.appendNow(user, mailbox, message, options));
  }

  private async appendNow(
    user: string,
    mailbox: string,
    message: MessageSource,
    options?: { flags?: string[]; internalDate?: Date },
  ): Promise<{ uid: number; uidValidity: number; modseq: number }> {
    await this.boxes.get(user, mailbox); // fail before spooling a big message
    const spooled = await this.spool(message);
    try {
      const box = await this.boxes.get(user, mailbox);
      const r = await this.batcher.commit(box.log, {
        ...spooled,
        internalDate: (options?.internalDate ?? new Date()).getTime(),
        flags: options?.flags ?? [],
      });
      return { uid: r.uid, uidValidity: box.record.uidValidity, modseq: r.modseq };
    } finally {
      await spooled.discard();
    }
  }

  async deliver(
    targets: DeliveryTarget[],
    message: MessageSource,
    options?: { internalDate?: Date },
  ): Promise<Array<{ user: string; mailbox: string; uid: number }>> {
    return this.space.taking(() => this.deliverNow(targets, message, options));
  }

  private async deliverNow(
    targets: DeliveryTarget[],
    message: MessageSource,
    options?: { internalDate?: Date },
  ): Promise<Array<{ user: string; mailbox: string; uid: number }>> {
    // All-or-nothing: every target must exist before anything is written.
    const boxes: Array<{ box: OpenBox; target: DeliveryTarget }> = [];
    for (const target of targets)
      boxes.push({ box: await this.boxes.get(target.user, target.mailbox ?? 'INBOX'), target });
    const spooled = await this.spool(message);
    const internalDate = (options?.internalDate ?? new Date()).getTime();
    try {
      // Every target commits at once (each may join a group commit in its own mailbox).
      const results = await Promise.allSettled(
        boxes.map(({ box, target }) =>
          this.batcher.commit(box.log, { ...spooled, internalDate, flags: target.flags ?? [] }),
        ),
      );
      const failed = results.find((r) => r.status === 'rejected');
      if (failed) {
        // Undo the copies that did go in, so a failed delivery is not half-delivered.
        for (const [i, r] of results.entries()) {
          if (r.status !== 'fulfilled') continue;
          const box = boxes[i].box;
          await this.inLock(box, () => commitExpunge(box.log, [r.value.uid])).catch(() => undefined);
        }
        throw failed.reason;
      }
      return results.map((r, i) => ({
        user: boxes[i].target.user,
        mailbox: boxes[i].box.record.name,
        uid: (r as PromiseFulfilledResult<{ uid: number }>).value.uid,
      }));
    } finally {
      await spooled.discard();
    }
  }

  /** Run `fn` with the mailbox's writer lock, caught up with the log. */
  private async inLock<T>(box: OpenBox, fn: () => Promise<T>): Promise<T> {
    const lock = await box.log.lockForWrite();
    try {
      const value = await fn();
      // Compaction only saves space later: its failure (a full disk) is not the operation's.
      await maybeCompact(box.log).catch(() => undefined);
      return value;
    } finally {
      await lock.release();
    }
  }

  async copy(
    user: string,
    from: string,
    uids: number[],
    to: string,
  ): Promise<{ uidValidity: number; map: Array<[number, number]> }> {
    return this.space.taking(() => this.transfer(user, from, uids, to, false));
  }

  async move(
    user: string,
    from: string,
    uids: number[],
    to: string,
  ): Promise<{ uidValidity: number; map: Array<[number, number]> }> {
    // Moving to Trash is how many clients delete: it takes no new space for the message.
    return this.space.freeing(() => this.transfer(user, from, uids, to, true));
  }

  private async transfer(
    user: string,
    from: string,
    uids: number[],
    to: string,
    remove: boolean,
  ): Promise<{ uidValidity: number; map: Array<[number, number]> }> {
    const src = await this.boxes.get(user, from);
    const dst = await this.boxes.get(user, to);
    // Lock in a fixed order so two opposite moves cannot deadlock. Into the same mailbox
    // (RFC 6851 allows MOVE there: new UIDs, the old ones expunged) its one lock is taken once.
    const same = src.log === dst.log;
    const [first, second] = src.log.dir < dst.log.dir ? [src, dst] : [dst, src];
    const l1 = await first.log.lockForWrite();
    try {
      const l2 = same ? undefined : await second.log.lockForWrite();
      try {
        const wanted = [...new Set(uids)].sort((a, b) => a - b).filter((u) => src.log.messages.has(u));
        const items = wanted.map((uid) => {
          const m = src.log.messages.get(uid)!;
          return {
            emlPath: src.log.messagePath(uid),
            idxPath: src.log.indexPath(uid),
            size: m.size,
            internalDate: m.internalDate,
            flags: m.flags,
          };
        });
        const added = await commitNew(dst.log, items);
        // Once the copies are logged, running the whole move again would copy twice: the
        // expunge half gets its own retry on a full disk (space-reserve.ts).
        if (remove) await this.space.retry(() => commitExpunge(src.log, wanted));
        return { uidValidity: dst.record.uidValidity, map: wanted.map((u, i) => [u, added[i].uid]) };
      } finally {
        await l2?.release();
      }
    } finally {
      await l1.release();
    }
  }

  async updateFlags(
    user: string,
    mailbox: string,
    uids: number[],
    mode: FlagMode,
    flags: string[],
    options?: { unchangedSince?: number },
  ): Promise<{ updated: MessageMeta[]; failed: number[] }> {
    const box = await this.boxes.get(user, mailbox);
    // \Deleted is set before EXPUNGE frees anything, so flag changes work on a full disk.
    return this.space.freeing(() =>
      this.inLock(box, () => commitFlags(box.log, uids, mode, flags, options?.unchangedSince)),
    );
  }

  async expunge(user: string, mailbox: string, uids?: number[]): Promise<number[]> {
    const box = await this.boxes.get(user, mailbox);
    const only = uids && new Set(uids);
    return this.space.freeing(() =>
      this.inLock(box, async () => {
        const gone: number[] = [];
        for (const m of box.log.messages.values()) {
          if ((!only || only.has(m.uid)) && m.flags.some((f) => f.toLowerCase() === '\\deleted'))
            gone.push(m.uid);
        }
        await commitExpunge(box.log, gone);
        return gone;
      }),
    );
  }

  // ---- reading -------------------------------------------------------------------------------

  async list(
    user: string,
    mailbox: string,
    range?: UidRange,
    options?: { changedSince?: number },
  ): Promise<MessageMeta[]> {
    const box = await this.boxes.get(user, mailbox);
    return box.log.messages.metas(range?.start ?? 1, range?.end ?? Infinity, options?.changedSince);
  }

  async getIndex(user: string, mailbox: string, uid: number): Promise<MessageIndex | undefined> {
    const box = await this.boxes.find(user, mailbox);
    if (!box || !box.log.messages.has(uid)) return undefined;
    const path = box.log.indexPath(uid);
    // The key names the delivery, not just the file: a user deleted and added again reuses paths.
    const entry = box.log.messages.get(uid)!;
    const key = `${path}\0${entry.size}\0${entry.internalDate}`;
    const cached = this.recentIndexes.get(key);
    if (cached) return cached;
    try {
      const index = await readIndexFile(path);
      if (index) this.rememberIndex(key, index);
      return index;
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  /**
   * A few recently read indexes. A client reading one large message in <partial> pieces asks
   * for its index once per piece, and an index carries up to 1 MiB of decoded text. An index
   * file never changes once written (a UID is never reused in a mailbox directory), and
   * expunged UIDs are refused above before the cache is consulted.
   */
  private readonly recentIndexes = new Map<string, MessageIndex>();
  private rememberIndex(key: string, index: MessageIndex): void {
    this.recentIndexes.set(key, index);
    if (this.recentIndexes.size > RECENT_INDEXES)
      this.recentIndexes.delete(this.recentIndexes.keys().next().value!);
  }

  async openMessage(
    user: string,
    mailbox: string,
    uid: number,
    range?: { start: number; end: number },
  ): Promise<Readable> {
    const box = await this.boxes.get(user, mailbox);
    if (!box.log.messages.has(uid)) throw new StoreError('NOT_FOUND', 'no such message');
    return openFileStream(box.log.messagePath(uid), range);
  }

  watch(user: string, mailbox: string, listener: (change: MailChange) => void): Unsubscribe {
    return this.boxes.watch(user, mailbox, listener);
  }

  async tryLock(user: string, mailbox: string, ttlMs = 30 * 60_000): Promise<MailboxLock | undefined> {
    const box = await this.boxes.get(user, mailbox);
    // POP3 takes this lock at login: a user must get in to DELE on a full disk.
    const lock = await this.space.freeing(() => tryLockFile(join(box.log.dir, 'maildrop.lock'), ttlMs));
    return lock && { release: () => lock.release() };
  }

  /** Compact one mailbox's log now (also done automatically as dead frames pile up). */
  async compact(user: string, mailbox: string): Promise<void> {
    const box = await this.boxes.get(user, mailbox);
    const lock = await box.log.lockForWrite();
    try {
      await box.log.compact();
    } finally {
      await lock.release();
    }
  }

  close(): void {
    this.boxes.close();
  }
}
