/**
 * Consistency check of one mailbox directory, for tests and for an operator: the log parses
 * from a header, UIDs are only ever added in increasing order and never twice, modseqs only
 * grow, and every live message has its .eml (of the logged size) and its index.
 */
import { promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { LOG_FILE } from './append-log.js';
import { RecordType, scanFrames } from './log-codec.js';
import { MSG_DIR } from './mailbox-log.js';

export interface CheckReport {
  ok: boolean;
  problems: string[];
  /** Bytes after the last whole frame: a torn tail the next writer will cut (not a problem). */
  tornBytes: number;
  messages: number;
  /** Message files no log entry points at (left by a crash; compaction removes them). */
  orphans: string[];
}

export async function checkMailboxDir(dir: string): Promise<CheckReport> {
  const problems: string[] = [];
  const buf = await fsp.readFile(join(dir, LOG_FILE));
  const live = new Map<number, number>();
  let first = true;
  let lastUid = 0;
  let lastModseq = 0;
  let index = 0;
  const end = scanFrames(buf, 0, (r) => {
    index++;
    if (first) {
      first = false;
      if (r.type !== RecordType.Header) problems.push('first frame is not a header');
      else lastModseq = r.header.highestModseq;
      return;
    }
    switch (r.type) {
      case RecordType.New:
        if (live.has(r.uid)) problems.push(`frame ${index}: UID ${r.uid} logged twice`);
        // Also true of a compacted log, which restates the live messages in UID order.
        if (r.uid <= lastUid) problems.push(`frame ${index}: UID ${r.uid} not increasing`);
        lastUid = r.uid;
        live.set(r.uid, r.size);
        break;
      case RecordType.Flags:
        if (!live.has(r.uid)) problems.push(`frame ${index}: flags for unknown UID ${r.uid}`);
        if (r.modseq <= lastModseq) problems.push(`frame ${index}: modseq ${r.modseq} not increasing`);
        lastModseq = r.modseq;
        break;
      case RecordType.Expunge:
        for (const uid of r.uids) live.delete(uid);
        if (r.modseq <= lastModseq) problems.push(`frame ${index}: modseq ${r.modseq} not increasing`);
        lastModseq = r.modseq;
        break;
      case RecordType.Header:
        problems.push(`frame ${index}: a second header`);
        break;
      default:
        break;
    }
  });
  if (first) problems.push('empty log');
  const files = new Set(await fsp.readdir(join(dir, MSG_DIR)));
  for (const [uid, size] of live) {
    if (!files.has(`${uid}.json`)) problems.push(`UID ${uid}: index file missing`);
    if (!files.has(`${uid}.eml`)) {
      problems.push(`UID ${uid}: message file missing`);
      continue;
    }
    const st = await fsp.stat(join(dir, MSG_DIR, `${uid}.eml`));
    if (st.size !== size) problems.push(`UID ${uid}: file is ${st.size} bytes, log says ${size}`);
  }
  const orphans = [...files].filter((f) => !live.has(Number(f.replace(/\.(eml|json)$/, ''))));
  return { ok: problems.length === 0, problems, tornBytes: buf.length - end, messages: live.size, orphans };
}
