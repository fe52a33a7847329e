/**
 * Mailboxes held in memory, with the fs backend's rules: UIDVALIDITY per mailbox, UIDs never
 * reused, a modseq per change published on the change feed, INBOX case-insensitive and
 * renamed by moving its messages (RFC 3501 §6.3.5).
 */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { fsDeps } from '../fs/deps.js';
import { applyMode, normalizeFlags, sameFlags } from '../fs/mail-write.js';
import { canonicalMailbox } from '../fs/mail-boxes.js';
import { StoreError } from '../types.js';
import type {
  DeliveryTarget, FlagMode, MailboxInfo, MailboxLock, MailChange, MailStore, MessageIndex, MessageMeta, MessageSource, SpecialUse, UidRange, Unsubscribe,
} from '../types.js';
import { readSource } from './source.js';

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
  messages: Map<number, Msg>;
  feed: EventEmitter;
  lockedUntil: number;
}

const { naming, indexer } = fsDeps;
let lastUidValidity = 0;
function nextUidValidity(): number {
  lastUidValidity = Math.max(Math.floor(Date.now() / 1000) % 0xffffffff, lastUidValidity + 1);
  return lastUidValidity;
}

const meta = (m: Msg): MessageMeta => ({ uid: m.uid, flags: [...m.flags], modseq: m.modseq, size: m.bytes.length, internalDate: m.internalDate });

export class MemoryMailStore implements MailStore {
  private readonly users = new Map<string, Map<string, Box>>();

  provision(user: string, boxes: Array<{ name: string; specialUse: SpecialUse | null }>): void {
    const map = new Map<string, Box>();
    this.users.set(user, map);
    for (const b of boxes) map.set(b.name, this.newBox(b.name, b.specialUse));
  }

  remove(user: string): void {
    const boxes = this.users.get(user);
    this.users.delete(user);
    for (const b of boxes?.values() ?? []) b.feed.emit('change', { kind: 'deleted' } satisfies MailChange);
  }

  private newBox(name: string, specialUse: SpecialUse | null): Box {
    return { name, specialUse, subscribed: true, uidValidity: nextUidValidity(), uidNext: 1, highestModseq: 0, messages: new Map(), feed: new EventEmitter().setMaxListeners(0), lockedUntil: 0 };
  }

  private userBoxes(user: string): Map<string, Box> {
    const boxes = this.users.get(naming.canonicalUser(user));
    if (!boxes) throw new StoreError('NOT_FOUND', 'no such user');
    return boxes;
  }

  private find(user: string, mailbox: string): Box | undefined {
    return this.users.get(naming.canonicalUser(user))?.get(canonicalMailbox(mailbox));
  }

  private box(user: string, mailbox: string): Box {
    const b = this.find(user, mailbox);
    if (!b) throw new StoreError('NOT_FOUND', 'no such mailbox');
    return b;
  }

  private info(b: Box): MailboxInfo {
    let unseen = 0;
    for (const m of b.messages.values()) if (!m.flags.some((f) => f.toLowerCase() === '\\seen')) unseen++;
    return { name: b.name, specialUse: b.specialUse, uidValidity: b.uidValidity, uidNext: b.uidNext, highestModseq: b.highestModseq, messages: b.messages.size, unseen, recent: 0, subscribed: b.subscribed };
  }

  async listMailboxes(user: string): Promise<MailboxInfo[]> {
    return [...(this.users.get(naming.canonicalUser(user))?.values() ?? [])].map((b) => this.info(b));
  }

  async getMailbox(user: string, mailbox: string): Promise<MailboxInfo | undefined> {
    const b = this.find(user, mailbox);
    return b && this.info(b);
  }

  async createMailbox(user: string, mailbox: string, specialUse?: SpecialUse): Promise<MailboxInfo> {
    const name = canonicalMailbox(mailbox);
    naming.validateMailbox(name);
    const boxes = this.userBoxes(user);
    if (boxes.has(name)) throw new StoreError('EXISTS', 'mailbox exists');
    const b = this.newBox(name, specialUse ?? null);
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
    b.feed.emit('change', { kind: 'deleted' } satisfies MailChange);
  }

  async renameMailbox(user: string, from: string, to: string): Promise<void> {
    const src = canonicalMailbox(from);
    const dst = canonicalMailbox(to);
    naming.validateMailbox(dst);
    if (src === 'INBOX') {
      await this.createMailbox(user, dst);
      await this.move(user, 'INBOX', [...this.box(user, 'INBOX').messages.keys()], dst);
      return;
    }
    const boxes = this.userBoxes(user);
    if (!boxes.has(src)) throw new StoreError('NOT_FOUND', 'no such mailbox');
    if (boxes.has(dst)) throw new StoreError('EXISTS', 'target mailbox exists');
    const d = naming.delimiter;
    for (const [name, b] of [...boxes]) {
      if (name !== src && !name.startsWith(src + d)) continue;
      boxes.delete(name);
      b.feed.emit('change', { kind: 'deleted' } satisfies MailChange);
      b.feed = new EventEmitter().setMaxListeners(0);
      b.name = dst + name.slice(src.length);
      boxes.set(b.name, b);
    }
  }

  async setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    this.box(user, mailbox).subscribed = subscribed;
  }

  private add(b: Box, bytes: Buffer, index: MessageIndex, flags: string[], internalDate: Date): Msg {
    const m: Msg = { uid: b.uidNext++, flags: normalizeFlags(flags), modseq: ++b.highestModseq, internalDate, bytes, index };
    b.messages.set(m.uid, m);
    b.feed.emit('change', { kind: 'new', uid: m.uid, modseq: m.modseq } satisfies MailChange);
    return m;
  }

  async append(user: string, mailbox: string, message: MessageSource, options?: { flags?: string[]; internalDate?: Date }) {
    const b = this.box(user, mailbox);
    const bytes = await readSource(message);
    const m = this.add(b, bytes, await indexer(bytes), options?.flags ?? [], options?.internalDate ?? new Date());
    return { uid: m.uid, uidValidity: b.uidValidity, modseq: m.modseq };
  }

  async deliver(targets: DeliveryTarget[], message: MessageSource, options?: { internalDate?: Date }) {
    // All-or-nothing: every target is checked before anything is added.
    const boxes = targets.map((t) => ({ t, b: this.box(t.user, t.mailbox ?? 'INBOX') }));
    const bytes = await readSource(message);
    const index = await indexer(bytes);
    const date = options?.internalDate ?? new Date();
    return boxes.map(({ t, b }) => ({ user: naming.canonicalUser(t.user), mailbox: b.name, uid: this.add(b, bytes, index, t.flags ?? [], date).uid }));
  }

  private transfer(user: string, from: string, uids: number[], to: string, removeSource: boolean) {
    const src = this.box(user, from);
    const dst = this.box(user, to);
    const wanted = [...new Set(uids)].sort((a, b) => a - b).filter((u) => src.messages.has(u));
    const map: Array<[number, number]> = wanted.map((u) => {
      const m = src.messages.get(u)!;
      return [u, this.add(dst, m.bytes, m.index, m.flags, m.internalDate).uid];
    });
    if (removeSource && wanted.length) {
      for (const u of wanted) src.messages.delete(u);
      src.feed.emit('change', { kind: 'expunge', uids: wanted, modseq: ++src.highestModseq } satisfies MailChange);
    }
    return { uidValidity: dst.uidValidity, map };
  }

  async copy(user: string, from: string, uids: number[], to: string) {
    return this.transfer(user, from, uids, to, false);
  }

  async move(user: string, from: string, uids: number[], to: string) {
    return this.transfer(user, from, uids, to, true);
  }

  async updateFlags(user: string, mailbox: string, uids: number[], mode: FlagMode, flags: string[], options?: { unchangedSince?: number }) {
    const b = this.box(user, mailbox);
    const updated: MessageMeta[] = [];
    const failed: number[] = [];
    for (const uid of [...new Set(uids)].sort((x, y) => x - y)) {
      const m = b.messages.get(uid);
      if (!m) continue;
      // RFC 7162 §3.1.3: UNCHANGEDSINCE refuses messages changed after it.
      if (options?.unchangedSince !== undefined && m.modseq > options.unchangedSince) {
        failed.push(uid);
        continue;
      }
      const next = applyMode(m.flags, mode, flags);
      if (!sameFlags(next, m.flags)) {
        m.flags = next;
        m.modseq = ++b.highestModseq;
        b.feed.emit('change', { kind: 'flags', uid, flags: [...next], modseq: m.modseq } satisfies MailChange);
      }
      updated.push(meta(m));
    }
    return { updated, failed };
  }

  async expunge(user: string, mailbox: string, uids?: number[]): Promise<number[]> {
    const b = this.box(user, mailbox);
    const only = uids && new Set(uids);
    const gone = [...b.messages.values()].filter((m) => (!only || only.has(m.uid)) && m.flags.some((f) => f.toLowerCase() === '\\deleted')).map((m) => m.uid);
    if (gone.length === 0) return gone;
    for (const u of gone) b.messages.delete(u);
    b.feed.emit('change', { kind: 'expunge', uids: gone, modseq: ++b.highestModseq } satisfies MailChange);
    return gone;
  }

  async list(user: string, mailbox: string, range?: UidRange, options?: { changedSince?: number }): Promise<MessageMeta[]> {
    const b = this.box(user, mailbox);
    const lo = range?.start ?? 1;
    const hi = range?.end ?? Infinity;
    const out: MessageMeta[] = [];
    for (const m of b.messages.values()) {
      if (m.uid < lo || m.uid > hi) continue;
      if (options?.changedSince !== undefined && m.modseq <= options.changedSince) continue;
      out.push(meta(m));
    }
    return out;
  }

  async getIndex(user: string, mailbox: string, uid: number): Promise<MessageIndex | undefined> {
    return this.find(user, mailbox)?.messages.get(uid)?.index;
  }

  async openMessage(user: string, mailbox: string, uid: number, range?: { start: number; end: number }): Promise<Readable> {
    const m = this.box(user, mailbox).messages.get(uid);
    if (!m) throw new StoreError('NOT_FOUND', 'no such message');
    const bytes = range ? m.bytes.subarray(Math.max(0, range.start), Math.min(m.bytes.length, range.end)) : m.bytes;
    return Readable.from([bytes]);
  }

  watch(user: string, mailbox: string, listener: (change: MailChange) => void): Unsubscribe {
    const b = this.box(user, mailbox);
    const feed = b.feed;
    feed.on('change', listener);
    return () => feed.off('change', listener);
  }

  async tryLock(user: string, mailbox: string, ttlMs = 30 * 60_000): Promise<MailboxLock | undefined> {
    const b = this.box(user, mailbox);
    const now = Date.now();
    if (b.lockedUntil > now) return undefined;
    const token = now + ttlMs;
    b.lockedUntil = token;
    return {
      release: async () => {
        if (b.lockedUntil === token) b.lockedUntil = 0;
      },
    };
  }
}
