/**
 * The writing half of the fs mail store: committing spooled messages into mailboxes, flags,
 * expunge and copy. Every function here runs with the mailbox writer lock held by its caller
 * and resolves only after the message files, their directory and the log frame are fsynced.
 */
import { promises as fsp } from 'node:fs';
import type { FlagMode, MessageMeta } from '../types.js';
import { fsyncDir } from './fsutil.js';
import { linkReplacing } from './ingest.js';
import { type MailRecord, RecordType } from './log-codec.js';
import type { MailboxLog, MsgEntry } from './mailbox-log.js';

export interface Incoming {
  /** Files to link: the spooled message and its index (or another mailbox's copies). */
  emlPath: string;
  idxPath: string;
  size: number;
  internalDate: number;
  flags: string[];
}

/** \Recent is a session flag and never stored. */
export function normalizeFlags(flags: readonly string[]): string[] {
  const out: string[] = [];
  for (const f of flags) {
    if (f.toLowerCase() === '\\recent') continue;
    if (!out.some((o) => o.toLowerCase() === f.toLowerCase())) out.push(f);
  }
  return out;
}

/** Link the messages in under fresh UIDs and log them. Caller holds `log`'s writer lock. */
export async function commitNew(
  log: MailboxLog,
  items: Incoming[],
): Promise<Array<{ uid: number; modseq: number }>> {
  let uid = log.uidNext;
  let modseq = log.highestModseq;
  const records: MailRecord[] = [];
  const out: Array<{ uid: number; modseq: number }> = [];
  for (const it of items) {
    await linkReplacing(it.idxPath, log.indexPath(uid));
    await linkReplacing(it.emlPath, log.messagePath(uid));
    modseq++;
    records.push({
      type: RecordType.New,
      uid,
      modseq,
      size: it.size,
      internalDate: it.internalDate,
      flags: normalizeFlags(it.flags),
    });
    out.push({ uid, modseq });
    uid++;
  }
  // The links must be durable before the log frame that points at them.
  await fsyncDir(log.msgDir);
  await log.append(records);
  return out;
}

export function meta(m: MsgEntry): MessageMeta {
  return {
    uid: m.uid,
    flags: [...m.flags],
    modseq: m.modseq,
    size: m.size,
    internalDate: new Date(m.internalDate),
  };
}

export function applyMode(current: readonly string[], mode: FlagMode, flags: string[]): string[] {
  const lower = new Set(flags.map((f) => f.toLowerCase()));
  switch (mode) {
    case 'set':
      return normalizeFlags(flags);
    case 'add':
      return normalizeFlags([...current, ...flags]);
    case 'remove':
      return current.filter((f) => !lower.has(f.toLowerCase()));
  }
}

export function sameFlags(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  const s = new Set(a.map((f) => f.toLowerCase()));
  return b.every((f) => s.has(f.toLowerCase()));
}

export async function commitFlags(
  log: MailboxLog,
  uids: number[],
  mode: FlagMode,
  flags: string[],
  unchangedSince: number | undefined,
): Promise<{ updated: MessageMeta[]; failed: number[] }> {
  const failed: number[] = [];
  const records: MailRecord[] = [];
  const touched: number[] = [];
  let modseq = log.highestModseq;
  for (const uid of [...new Set(uids)].sort((a, b) => a - b)) {
    const m = log.messages.get(uid);
    if (!m) continue;
    if (unchangedSince !== undefined && m.modseq > unchangedSince) {
      failed.push(uid);
      continue;
    }
    const next = applyMode(m.flags, mode, flags);
    touched.push(uid);
    if (sameFlags(next, m.flags)) continue;
    records.push({ type: RecordType.Flags, uid, modseq: ++modseq, flags: next });
  }
  if (records.length) await log.append(records);
  const updated: MessageMeta[] = [];
  for (const uid of touched) {
    const m = log.messages.get(uid);
    if (m) updated.push(meta(m));
  }
  return { updated, failed };
}

/** Log the expunge, then unlink the files (a crash in between leaves orphans compaction removes). */
export async function commitExpunge(log: MailboxLog, uids: number[]): Promise<void> {
  if (uids.length === 0) return;
  await log.append([{ type: RecordType.Expunge, modseq: log.highestModseq + 1, uids }]);
  for (const uid of uids) {
    await fsp.rm(log.messagePath(uid), { force: true });
    await fsp.rm(log.indexPath(uid), { force: true });
  }
}

/** Compact when dead frames outnumber live messages (and there are enough to matter). */
export async function maybeCompact(log: MailboxLog): Promise<void> {
  if (log.deadFrames > 2048 && log.deadFrames > log.messages.size) await log.compact();
}
