/**
 * Mailboxes held in memory: UIDVALIDITY per mailbox, UIDs never reused, a modseq per change
 * (RFC 7162) published on the change feed, INBOX case-insensitive and renamed by moving its
 * messages (RFC 3501 §6.3.5). Messages are indexed once at delivery and shared, never
 * re-parsed, by copies and reads.
 */
import type { Readable } from 'node:stream';
import {
  ChangeFeed,
  MAILBOX_DELIMITER,
  applyFlagMode,
  bytesStream,
  canonicalMailbox,
  canonicalUser,
  hasFlag,
  normalizeFlags,
  normalizeUids,
  readSource,
  sameFlags,
  sourceBytes,
  validateMailbox,
} from '../common/index.js';
import { indexBytes } from '../indexer/index.js';
import { StoreError } from '../types.js';
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

interface Msg {
  uid: number;
  flags: string[];
  modseq: number;
  internalDate: Date;
  bytes: Buffer;
  index: MessageIndex;
}

interface Box {
  name: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  /** Insertion order is UID order: UIDs only grow. */
  messages: Map<number, Msg>;
  feed: ChangeFeed<MailChange>;
  lock: { token: number; until: number } | null;
  gone: boolean;
}

/** Seconds since the epoch, strictly increasing (RFC 3501 §2.3.1.1: never reused for a name). */
let lastUidValidity = 0;
function nextUidValidity(): number {
  lastUidValidity = Math.max(Math.floor(Date.now() / 1000) % 0xffffffff, lastUidValidity + 1);
  return lastUidValidity;
}

let lockTokens = 0;

// A message's flag array is replaced on change, never edited, and frozen: metas share it,
// and new messages without flags all share this one.
const NO_FLAGS = Object.freeze([]) as unknown as string[];

const meta = (m: Msg): MessageMeta => ({
  uid: m.uid,
  flags: m.flags,
  modseq: m.modseq,
  size: m.bytes.length,
  internalDate: new Date(m.internalDate),
});

export class MemoryMailStore implements MailStore {
  private readonly users = new Map<string, Map<string, Box>>();
  /** Per user: subscribed names whose mailbox was deleted (RFC 3501 §6.3.6 keeps them). */
  private readonly keptSubscriptions = new Map<string, Set<string>>();

  /** Called by accounts when a user is added. */
  provision(user: string, boxes: ReadonlyArray<{ name: string; specialUse: SpecialUse | null }>): void {
    const map = new Map<string, Box>();
    this.users.set(user, map);
    this.keptSubscriptions.delete(user);
    // The mailboxes every user starts with are subscribed.
    for (const b of boxes) map.set(b.name, this.newBox(b.name, b.specialUse, true));
  }

  /** Called by accounts when a user is deleted: every watcher learns its mailbox is gone. */
  remove(user: string): void {
    const boxes = this.users.get(user);
    this.users.delete(user);
    this.keptSubscriptions.delete(user);
    for (const b of boxes?.values() ?? []) this.drop(b);
  }

  close(): void {
    for (const boxes of this.users.values()) for (const b of boxes.values()) b.feed.clear();
  }

  private drop(b: Box): void {
    b.gone = true;
    b.feed.publish({ kind: 'deleted' });
    b.feed.clear();
  }

  private newBox(name: string, specialUse: SpecialUse | null, subscribed: boolean): Box {
    return {
      name,
      specialUse,
      subscribed,
      uidValidity: nextUidValidity(),
      uidNext: 1,
      highestModseq: 0,
      messages: new Map(),
      feed: new ChangeFeed(),
      lock: null,
      gone: false,
    };
  }

  private userBoxes(user: string): Map<string, Box> {
    const boxes = this.users.get(canonicalUser(user));
    if (!boxes) throw new StoreError('NOT_FOUND', 'no such user');
    return boxes;
  }

  /** Only ever looks in `user`'s own map: another user's mailboxes are unreachable by name. */
  private find(user: string, mailbox: string): Box | undefined {
    return this.users.get(canonicalUser(user))?.get(canonicalMailbox(mailbox));
  }

  private box(user: string, mailbox: string): Box {
    const b = this.find(user, mailbox);
    if (!b) throw new StoreError('NOT_FOUND', 'no such mailbox');
    return b;
  }

  /** Every change bumps highestModseq, so a count taken at one modseq holds until the next. */
  private readonly unseenCounts = new WeakMap<Box, { modseq: number; unseen: number }>();

  private info(b: Box): MailboxInfo {
    let counted = this.unseenCounts.get(b);
    if (!counted || counted.modseq !== b.highestModseq) {
      let unseen = 0;
      for (const m of b.messages.values()) if (!hasFlag(m.flags, '\\Seen')) unseen++;
      counted = { modseq: b.highestModseq, unseen };
      this.unseenCounts.set(b, counted);
    }
    const { unseen } = counted;
    // \Recent is not kept (IMAP4rev2, RFC 9051, dropped it); sessions may compute their own.
    return {
      name: b.name,
      specialUse: b.specialUse,
      uidValidity: b.uidValidity,
      uidNext: b.uidNext,
      highestModseq: b.highestModseq,
      messages: b.messages.size,
      unseen,
      recent: 0,
      subscribed: b.subscribed,
    };
  }

  async listMailboxes(user: string): Promise<MailboxInfo[]> {
    return [...(this.users.get(canonicalUser(user))?.values() ?? [])].map((b) => this.info(b));
  }

  async getMailbox(user: string, mailbox: string): Promise<MailboxInfo | undefined> {
    const b = this.find(user, mailbox);
    return b && this.info(b);
  }

  async createMailbox(user: string, mailbox: string, specialUse?: SpecialUse): Promise<MailboxInfo> {
    const name = canonicalMailbox(mailbox);
    validateMailbox(name);
    const boxes = this.userBoxes(user);
    if (boxes.has(name)) throw new StoreError('EXISTS', 'mailbox exists');
    const kept = this.keptSubscriptions.get(canonicalUser(user))?.delete(name) ?? false;
    const b = this.newBox(name, specialUse ?? null, kept);
    boxes.set(name, b);
    return this.info(b);
  }

  async deleteMailbox(user: string, mailbox: string): Promise<void> {
    const name = canonicalMailbox(mailbox);
    if (name === 'INBOX') throw new StoreError('INVALID_NAME', 'INBOX cannot be deleted');
    const boxes = this.userBoxes(user);
    const b = boxes.get(name);
    if (!b) throw new StoreError('NOT_FOUND', 'no such mailbox');
    boxes.delete(name);
    this.drop(b);
    if (b.subscribed) {
      const u = canonicalUser(user);
      const kept = this.keptSubscriptions.get(u) ?? new Set<string>();
      this.keptSubscriptions.set(u, kept.add(name));
    }
  }

  async renameMailbox(user: string, from: string, to: string): Promise<void> {
    const src = canonicalMailbox(from);
    const dst = canonicalMailbox(to);
    validateMailbox(dst);
    const boxes = this.userBoxes(user);
    if (!boxes.has(src)) throw new StoreError('NOT_FOUND', 'no such mailbox');
    if (boxes.has(dst)) throw new StoreError('EXISTS', 'target mailbox exists');
    if (src === 'INBOX') {
      // RFC 3501 §6.3.5: renaming INBOX moves its messages to the new name; INBOX stays, empty.
      await this.createMailbox(user, dst);
      await this.move(user, 'INBOX', [...this.box(user, 'INBOX').messages.keys()], dst);
      return;
    }
    if (dst.startsWith(src + MAILBOX_DELIMITER))
      throw new StoreError('INVALID_NAME', 'cannot rename a mailbox into itself');
    // Inferior names are renamed with it (RFC 3501 §6.3.5); each keeps its UIDVALIDITY.
    const moving = [...boxes].filter(([name]) => name === src || name.startsWith(src + MAILBOX_DELIMITER));
    for (const [name] of moving)
      if (boxes.has(dst + name.slice(src.length)) && name !== src)
        throw new StoreError('EXISTS', 'target mailbox exists');
    for (const [name, b] of moving) {
      boxes.delete(name);
      // Sessions watching the old name see it go; the renamed box gets a fresh feed.
      b.feed.publish({ kind: 'deleted' });
      b.feed.clear();
      b.name = dst + name.slice(src.length);
      boxes.set(b.name, b);
      if (this.keptSubscriptions.get(canonicalUser(user))?.delete(b.name)) b.subscribed = true;
    }
  }

  async setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    const b = this.find(user, mailbox);
    if (b) b.subscribed = subscribed;
    else if (
      subscribed ||
      !this.keptSubscriptions.get(canonicalUser(user))?.delete(canonicalMailbox(mailbox))
    )
      throw new StoreError('NOT_FOUND', 'no such mailbox');
  }

  async listSubscriptions(user: string): Promise<string[]> {
    const names = [...(this.users.get(canonicalUser(user))?.values() ?? [])]
      .filter((b) => b.subscribed)
      .map((b) => b.name);
    return [...names, ...(this.keptSubscriptions.get(canonicalUser(user)) ?? [])];
  }

  private add(b: Box, bytes: Buffer, index: MessageIndex, flags: string[], internalDate: Date): Msg {
    const m: Msg = {
      uid: b.uidNext++,
      flags: flags.length === 0 ? NO_FLAGS : (Object.freeze(normalizeFlags(flags)) as string[]),
      modseq: ++b.highestModseq,
      internalDate,
      bytes,
      index,
    };
    b.messages.set(m.uid, m);
    b.feed.publish({ kind: 'new', uid: m.uid, modseq: m.modseq });
    return m;
  }

  private async ingest(message: MessageSource): Promise<{ bytes: Buffer; index: MessageIndex }> {
    const bytes = await readSource(message);
    return { bytes, index: indexBytes(bytes) };
  }

  /** `ingest` of a message given whole, without awaiting anything; undefined for a stream. */
  private ingestNow(message: MessageSource): { bytes: Buffer; index: MessageIndex } | undefined {
    const bytes = sourceBytes(message);
    return bytes && { bytes, index: indexBytes(bytes) };
  }

  async append(
    user: string,
    mailbox: string,
    message: MessageSource,
    options?: { flags?: string[]; internalDate?: Date },
  ) {
    this.box(user, mailbox);
    const { bytes, index } = await this.ingest(message);
    // Looked up again: the mailbox may have been deleted or renamed while the message was read.
    const b = this.box(user, mailbox);
    const m = this.add(b, bytes, index, options?.flags ?? [], options?.internalDate ?? new Date());
    return { uid: m.uid, uidValidity: b.uidValidity, modseq: m.modseq };
  }

  async deliver(targets: DeliveryTarget[], message: MessageSource, options?: { internalDate?: Date }) {
    const resolve = () => targets.map((t) => ({ t, b: this.box(t.user, t.mailbox ?? 'INBOX') }));
    let boxes = resolve();
    const whole = this.ingestNow(message);
    const { bytes, index } = whole ?? (await this.ingest(message));
    // All-or-nothing: every target is found (again, after the await) before anything is added.
    if (!whole) boxes = resolve();
    const date = options?.internalDate ?? new Date();
    return boxes.map(({ t, b }) => ({
      user: canonicalUser(t.user),
      mailbox: b.name,
      uid: this.add(b, bytes, index, t.flags ?? [], date).uid,
    }));
  }

  private transfer(user: string, from: string, uids: number[], to: string, removeSource: boolean) {
    const src = this.box(user, from);
    const dst = this.box(user, to);
    const wanted = normalizeUids(uids).filter((u) => src.messages.has(u));
    // RFC 4315 §3 COPYUID: source and destination UIDs in the same order.
    const map: Array<[number, number]> = wanted.map((u) => {
      const m = src.messages.get(u)!;
      return [u, this.add(dst, m.bytes, m.index, m.flags, m.internalDate).uid];
    });
    if (removeSource && wanted.length) {
      for (const u of wanted) src.messages.delete(u);
      src.feed.publish({ kind: 'expunge', uids: wanted, modseq: ++src.highestModseq });
    }
    return { uidValidity: dst.uidValidity, map };
  }

  async copy(user: string, from: string, uids: number[], to: string) {
    return this.transfer(user, from, uids, to, false);
  }

  async move(user: string, from: string, uids: number[], to: string) {
    return this.transfer(user, from, uids, to, true);
  }

  async updateFlags(
    user: string,
    mailbox: string,
    uids: number[],
    mode: FlagMode,
    flags: string[],
    options?: { unchangedSince?: number },
  ) {
    const b = this.box(user, mailbox);
    const updated: MessageMeta[] = [];
    const failed: number[] = [];
    for (const uid of normalizeUids(uids)) {
      const m = b.messages.get(uid);
      if (!m) continue;
      // RFC 7162 §3.1.3: UNCHANGEDSINCE refuses messages changed after it.
      if (options?.unchangedSince !== undefined && m.modseq > options.unchangedSince) {
        failed.push(uid);
        continue;
      }
      const next = applyFlagMode(m.flags, mode, flags);
      if (!sameFlags(next, m.flags)) {
        m.flags = Object.freeze(next) as string[];
        m.modseq = ++b.highestModseq;
        b.feed.publish({ kind: 'flags', uid, flags: [...next], modseq: m.modseq });
      }
      updated.push(meta(m));
    }
    return { updated, failed };
  }

  async expunge(user: string, mailbox: string, uids?: number[]): Promise<number[]> {
    const b = this.box(user, mailbox);
    const only = uids && new Set(uids);
    const gone: number[] = [];
    for (const m of b.messages.values())
      if ((!only || only.has(m.uid)) && hasFlag(m.flags, '\\Deleted')) gone.push(m.uid);
    if (gone.length === 0) return gone;
    for (const u of gone) b.messages.delete(u);
    b.feed.publish({ kind: 'expunge', uids: gone, modseq: ++b.highestModseq });
    return gone;
  }

  async list(
    user: string,
    mailbox: string,
    range?: UidRange,
    options?: { changedSince?: number },
  ): Promise<MessageMeta[]> {
    const b = this.box(user, mailbox);
    const lo = range ? Math.min(range.start, range.end) : 1;
    const hi = range ? Math.max(range.start, range.end) : Infinity;
    const out: MessageMeta[] = [];
    for (const m of b.messages.values()) {
      if (m.uid < lo) continue;
      if (m.uid > hi) break;
      if (options?.changedSince !== undefined && m.modseq <= options.changedSince) continue;
      out.push(meta(m));
    }
    return out;
  }

  async getIndex(user: string, mailbox: string, uid: number): Promise<MessageIndex | undefined> {
    return this.find(user, mailbox)?.messages.get(uid)?.index;
  }

  async openMessage(
    user: string,
    mailbox: string,
    uid: number,
    range?: { start: number; end: number },
  ): Promise<Readable> {
    const m = this.box(user, mailbox).messages.get(uid);
    if (!m) throw new StoreError('NOT_FOUND', 'no such message');
    return bytesStream(m.bytes, range);
  }

  watch(user: string, mailbox: string, listener: (change: MailChange) => void): Unsubscribe {
    return this.box(user, mailbox).feed.subscribe(listener);
  }

  async tryLock(user: string, mailbox: string, ttlMs = 30 * 60_000): Promise<MailboxLock | undefined> {
    const b = this.box(user, mailbox);
    const now = Date.now();
    if (b.lock && b.lock.until > now) return undefined;
    // A token per holder: a late release of an expired lock never frees the next holder's.
    const lock = { token: ++lockTokens, until: now + ttlMs };
    b.lock = lock;
    return {
      release: async () => {
        if (b.lock === lock) b.lock = null;
      },
    };
  }
}
