/**
 * The selected mailbox as this session sees it: the message sequence numbers it has been told
 * about, and the changes the store's feed reported that it has not been told about yet.
 * Changes are announced only by `sync`, called where RFC 3501 §7 allows untagged updates:
 * EXPUNGE never during FETCH, STORE or SEARCH (§7.4.1), so numbers never shift mid-command.
 */
import type { MailboxInfo, MailChange, MailStore, MessageMeta, Unsubscribe } from '@postern/store';
import { flagsLines, isKeyword } from './flags.js';
import { inSet, type SequenceSet } from './sequence.js';

export interface Numbered {
  seq: number;
  meta: MessageMeta;
}

export interface SyncOptions {
  /** EXPUNGE responses may be sent (RFC 3501 §7.4.1). */
  allowExpunge: boolean;
  /** FETCH updates carry the UID (RFC 3501 §6.4.8 UID commands; RFC 7162 §3.2.4 wants it for CONDSTORE). */
  withUid: boolean;
  /** CONDSTORE enabled: FETCH updates carry MODSEQ (RFC 7162 §3.2.4). */
  condstore: boolean;
}

export class SelectedMailbox {
  private messages: MessageMeta[];
  private readonly pendingExpunge = new Set<number>();
  private readonly pendingFlags = new Map<number, { flags: string[]; modseq: number }>();
  private pendingNew = false;
  /** Keywords any message here has had, by lower case (RFC 3501 §2.3.2: flags are case-insensitive). */
  private readonly keywords = new Map<string, string>();
  /** A keyword appeared that the client has not been given in FLAGS yet. */
  private keywordsChanged = false;
  private unsubscribe: Unsubscribe | undefined;
  private waiter: (() => void) | undefined;
  deleted = false;
  highestModseq: number;

  private constructor(
    private readonly store: MailStore,
    readonly user: string,
    readonly name: string,
    readonly readOnly: boolean,
    readonly info: MailboxInfo,
  ) {
    this.messages = [];
    this.highestModseq = info.highestModseq;
  }

  /** Watch first, then list, so that no change falls between the two. */
  static async open(
    store: MailStore,
    user: string,
    name: string,
    info: MailboxInfo,
    readOnly: boolean,
  ): Promise<SelectedMailbox> {
    const box = new SelectedMailbox(store, user, name, readOnly, info);
    box.unsubscribe = store.watch(user, name, (change) => box.onChange(change));
    try {
      box.messages = await store.list(user, name);
    } catch (err) {
      box.close();
      throw err;
    }
    for (const m of box.messages) {
      box.highestModseq = Math.max(box.highestModseq, m.modseq);
      box.noteFlags(m.flags);
    }
    box.keywordsChanged = false; // the SELECT response lists them
    return box;
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.wake();
  }

  get exists(): number {
    return this.messages.length;
  }

  get uidNext(): number {
    const last = this.messages[this.messages.length - 1];
    return Math.max(this.info.uidNext, last ? last.uid + 1 : 1);
  }

  /** Resolves at the next change from the feed (IDLE, RFC 2177). */
  changed(): Promise<void> {
    if (this.hasPending()) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiter = resolve;
    });
  }

  /** Cancel a pending `changed()` wait. */
  wake(): void {
    const w = this.waiter;
    this.waiter = undefined;
    w?.();
  }

  hasPending(): boolean {
    return this.pendingNew || this.pendingExpunge.size > 0 || this.pendingFlags.size > 0;
  }

  private onChange(change: MailChange): void {
    switch (change.kind) {
      case 'new':
        this.pendingNew = true;
        break;
      case 'expunge':
        for (const uid of change.uids) this.pendingExpunge.add(uid);
        break;
      case 'flags': {
        const prev = this.pendingFlags.get(change.uid);
        if (!prev || prev.modseq < change.modseq)
          this.pendingFlags.set(change.uid, { flags: change.flags, modseq: change.modseq });
        break;
      }
      case 'deleted':
        this.deleted = true;
        break;
    }
    this.wake();
  }

  all(): Numbered[] {
    return this.messages.map((meta, i) => ({ seq: i + 1, meta }));
  }

  /** Messages named by a sequence set of sequence numbers or UIDs, in sequence order. */
  resolve(set: SequenceSet, byUid: boolean): Numbered[] {
    const out: Numbered[] = [];
    const n = this.messages.length;
    if (n === 0) return out;
    const maxUid = this.messages[n - 1].uid;
    for (let i = 0; i < n; i++) {
      const meta = this.messages[i];
      if (byUid ? inSet(set, meta.uid, maxUid) : inSet(set, i + 1, n)) out.push({ seq: i + 1, meta });
    }
    return out;
  }

  /** Is every sequence number in the set a message? (RFC 3501 §9: invalid numbers are BAD.) */
  seqSetValid(set: SequenceSet): boolean {
    const n = this.messages.length;
    return set.every(
      (r) =>
        (r.start === Infinity || r.start <= n) &&
        (r.end === Infinity || r.end <= n) &&
        (n > 0 || (r.start === Infinity && r.end === Infinity)),
    );
  }

  private noteFlags(flags: readonly string[]): void {
    for (const f of flags) {
      if (!isKeyword(f) || this.keywords.has(f.toLowerCase())) continue;
      this.keywords.set(f.toLowerCase(), f);
      this.keywordsChanged = true;
    }
  }

  /** `* FLAGS` and `* OK [PERMANENTFLAGS]`: the system flags and every keyword in use here. */
  flagsLines(): string[] {
    return flagsLines(this.keywords.values(), this.readOnly);
  }

  /**
   * FLAGS and PERMANENTFLAGS again once a keyword appeared (RFC 3501 §7.2.6), to be sent
   * before any FETCH that shows it: a client may ignore a flag it was not told about.
   */
  takeFlagsUpdate(): string[] {
    if (!this.keywordsChanged) return [];
    this.keywordsChanged = false;
    return this.flagsLines();
  }

  /** Record what a command of this session changed (STORE results). */
  update(meta: MessageMeta): Numbered | undefined {
    const i = this.messages.findIndex((m) => m.uid === meta.uid);
    if (i === -1) return undefined;
    this.noteFlags(meta.flags);
    this.messages[i] = meta;
    this.highestModseq = Math.max(this.highestModseq, meta.modseq);
    return { seq: i + 1, meta };
  }

  /** Announce this session's own EXPUNGE (RFC 3501 §7.4.1): one line per message, numbers as they shift. */
  removeUids(uids: number[]): number[] {
    const gone = new Set(uids);
    const seqs: number[] = [];
    for (let i = this.messages.length - 1; i >= 0; i--) {
      if (gone.has(this.messages[i].uid)) seqs.push(i + 1);
    }
    this.messages = this.messages.filter((m) => !gone.has(m.uid));
    for (const uid of uids) this.pendingExpunge.delete(uid);
    return seqs; // descending: each line is valid when sent
  }

  /** The untagged updates the client may be told now (RFC 3501 §7.3.1, §7.4.1, §7.4.2). */
  async sync(opts: SyncOptions): Promise<string[]> {
    const lines: string[] = [];
    if (opts.allowExpunge && this.pendingExpunge.size > 0) {
      const seqs = this.removeUids([...this.pendingExpunge]);
      for (const s of seqs) lines.push(`* ${s} EXPUNGE\r\n`);
      this.pendingExpunge.clear();
    }
    if (this.pendingNew && !this.deleted) {
      this.pendingNew = false;
      const last = this.messages[this.messages.length - 1];
      const fresh = await this.store.list(this.user, this.name, {
        start: last ? last.uid + 1 : 1,
        end: Infinity,
      });
      const known = new Set(this.messages.map((m) => m.uid));
      let added = 0;
      for (const meta of fresh) {
        if (known.has(meta.uid) || this.pendingExpunge.has(meta.uid)) continue;
        this.messages.push(meta);
        this.noteFlags(meta.flags);
        this.highestModseq = Math.max(this.highestModseq, meta.modseq);
        added++;
      }
      if (added > 0) {
        lines.push(`* ${this.messages.length} EXISTS\r\n`);
        lines.push(`* 0 RECENT\r\n`);
      }
    }
    for (const [uid, change] of this.pendingFlags) {
      this.pendingFlags.delete(uid);
      const i = this.messages.findIndex((m) => m.uid === uid);
      if (i === -1) continue;
      const cur = this.messages[i];
      if (cur.modseq >= change.modseq) continue; // already told (our own STORE)
      this.messages[i] = { ...cur, flags: change.flags, modseq: change.modseq };
      this.noteFlags(change.flags);
      this.highestModseq = Math.max(this.highestModseq, change.modseq);
      const items = [`FLAGS (${change.flags.join(' ')})`];
      if (opts.withUid || opts.condstore) items.unshift(`UID ${uid}`);
      if (opts.condstore) items.push(`MODSEQ (${change.modseq})`);
      lines.push(`* ${i + 1} FETCH (${items.join(' ')})\r\n`);
    }
    return [...this.takeFlagsUpdate(), ...lines];
  }
}
