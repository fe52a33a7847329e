/** One mailbox's index log: the live messages with their flags and modseqs. */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import type { MailChange } from '../types.js';
import { AppendLog, freshHeader } from './append-log.js';
import { ensureDir } from './fsutil.js';
import { type MailRecord, RecordType } from './log-codec.js';
import { MessageTable } from './message-table.js';

export type { MsgEntry } from './message-table.js';

export const MSG_DIR = 'msgs';

export class MailboxLog extends AppendLog<MailChange> {
  /** Live messages; insertion order is UID order because UIDs only grow. */
  messages = new MessageTable();

  get msgDir(): string {
    return join(this.dir, MSG_DIR);
  }
  messagePath(uid: number): string {
    return join(this.dir, MSG_DIR, `${uid}.eml`);
  }
  indexPath(uid: number): string {
    return join(this.dir, MSG_DIR, `${uid}.json`);
  }
  get uidNext(): number {
    return this.header.uidNext;
  }
  get highestModseq(): number {
    return this.header.highestModseq;
  }

  static async create(dir: string, uidValidity: number): Promise<void> {
    await ensureDir(join(dir, MSG_DIR));
    await AppendLog.createFile(dir, freshHeader(uidValidity));
  }

  protected reset(): void {
    this.messages = new MessageTable();
  }

  protected apply(r: MailRecord, changes: MailChange[] | undefined): void {
    const h = this.header;
    switch (r.type) {
      case RecordType.New:
        if (!this.messages.put(r.uid, r.modseq, r.size, r.internalDate, r.flags)) this.deadFrames++;
        if (r.uid >= h.uidNext) h.uidNext = r.uid + 1;
        if (r.modseq > h.highestModseq) h.highestModseq = r.modseq;
        changes?.push({ kind: 'new', uid: r.uid, modseq: r.modseq });
        return;
      case RecordType.Flags: {
        this.deadFrames++;
        if (r.modseq > h.highestModseq) h.highestModseq = r.modseq;
        if (!this.messages.setFlags(r.uid, r.flags, r.modseq)) return;
        changes?.push({ kind: 'flags', uid: r.uid, flags: [...r.flags], modseq: r.modseq });
        return;
      }
      case RecordType.Expunge: {
        const gone = this.messages.remove(r.uids);
        this.deadFrames += 1 + gone.length;
        if (r.modseq > h.highestModseq) h.highestModseq = r.modseq;
        if (gone.length) changes?.push({ kind: 'expunge', uids: gone, modseq: r.modseq });
        return;
      }
      default:
        return;
    }
  }

  protected snapshot(): unknown {
    return this.messages.modseqByUid();
  }

  protected diff(before: unknown): MailChange[] {
    const old = before as Map<number, number>;
    const out: MailChange[] = [];
    const gone = [...old.keys()].filter((u) => !this.messages.has(u));
    if (gone.length) out.push({ kind: 'expunge', uids: gone, modseq: this.highestModseq });
    for (const m of this.messages.values()) {
      const was = old.get(m.uid);
      if (was === undefined) out.push({ kind: 'new', uid: m.uid, modseq: m.modseq });
      else if (was !== m.modseq)
        out.push({ kind: 'flags', uid: m.uid, flags: [...m.flags], modseq: m.modseq });
    }
    return out;
  }

  protected liveRecords(): MailRecord[] {
    return [...this.messages.values()].map((m) => ({ type: RecordType.New, ...m }));
  }

  override async compact(): Promise<void> {
    await super.compact();
    // Files of messages expunged before a crash, or linked by a writer that died before
    // logging them, could not be removed then; they go now (the writer lock is held).
    const live = new Set<string>();
    for (const uid of this.messages.keys()) live.add(`${uid}.eml`).add(`${uid}.json`);
    for (const name of await fsp.readdir(this.msgDir)) {
      if (!live.has(name)) await fsp.rm(join(this.msgDir, name), { force: true });
    }
  }
}
