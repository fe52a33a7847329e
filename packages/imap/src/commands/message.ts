/**
 * Selected-state commands on messages (RFC 3501 §6.4): CLOSE, UNSELECT (RFC 3691), EXPUNGE
 * and UID EXPUNGE (RFC 4315 §2.1), STORE with UNCHANGEDSINCE (RFC 7162 §3.1.3), COPY with
 * COPYUID (RFC 4315 §3), MOVE (RFC 6851), and SEARCH with ESEARCH (RFC 4731).
 */
import type { FlagMode } from '@postern/store';
import { bad, no } from '../errors.js';
import type { Reader } from '../parser.js';
import { formatSet, parseSequenceSet } from '../sequence.js';
import { matches, needsIndex, parseSearch, usesModseq, type Candidate } from '../search.js';
import type { Numbered } from '../selected.js';
import type { ImapSession } from '../session.js';
import { str } from '../format.js';
import { enableCondstore } from '../condstore.js';
import type { CommandContext, Handler } from './table.js';

/** The messages a sequence set names; sequence numbers past the end are BAD (RFC 3501 §9). */
export function target(ctx: CommandContext, r: Reader): Numbered[] {
  const set = parseSequenceSet(r);
  const box = ctx.session.selected;
  if (!ctx.uid && !box.seqSetValid(set)) throw bad('invalid message sequence number');
  return box.resolve(set, ctx.uid);
}

function writable(session: ImapSession): void {
  if (session.selected.readOnly) throw no('mailbox is read-only', 'READ-ONLY');
}

async function expunge(session: ImapSession, uids?: number[]): Promise<void> {
  const box = session.selected;
  const gone = await session.options.store.mail.expunge(session.user, box.name, uids);
  const seqs = box.removeUids(gone);
  if (seqs.length) await session.write(seqs.map((s) => `* ${s} EXPUNGE\r\n`));
}

async function copyOrMove(ctx: CommandContext, r: Reader, move: boolean): Promise<string> {
  const { session } = ctx;
  r.sp();
  const msgs = target(ctx, r);
  r.sp();
  const destWire = r.astring();
  r.end();
  const dest = session.decodeName(destWire);
  const store = session.options.store.mail;
  if (move) writable(session);
  if (!(await store.getMailbox(session.user, dest))) throw no('no such mailbox', 'TRYCREATE');
  if (msgs.length === 0) return `${ctx.name} completed, nothing to do`;
  const box = session.selected;
  const uids = msgs.map((m) => m.meta.uid);
  const res = move
    ? await store.move(session.user, box.name, uids, dest)
    : await store.copy(session.user, box.name, uids, dest);
  const code = res.map.length
    ? `[COPYUID ${res.uidValidity} ${res.map.map(([s]) => s).join(',')} ${res.map.map(([, d]) => d).join(',')}] `
    : '';
  if (!move) return `${code}COPY completed`;
  // RFC 6851 §4.3: COPYUID in an untagged OK, then the EXPUNGEs, then the tagged OK.
  if (code) await session.write(`* OK ${code}moved\r\n`);
  const seqs = box.removeUids(res.map.map(([s]) => s));
  if (seqs.length) await session.write(seqs.map((s) => `* ${s} EXPUNGE\r\n`));
  return 'MOVE completed';
}

/**
 * The MODSEQ of a SEARCH that used the MODSEQ key: the highest among the messages returned.
 * RFC 7162 §3.1.5 with ESEARCH: MIN or MAX alone returns one message, so its mod-sequence;
 * MIN and MAX together the higher of those two; ALL or COUNT every match.
 */
function highestModseq(hits: Numbered[], returns: string[] | undefined): number | undefined {
  if (hits.length === 0) return undefined;
  let shown = hits;
  if (returns && !returns.includes('ALL') && !returns.includes('COUNT')) {
    shown = [];
    if (returns.includes('MIN')) shown.push(hits[0]);
    if (returns.includes('MAX')) shown.push(hits[hits.length - 1]);
  }
  return shown.length ? Math.max(...shown.map((m) => m.meta.modseq)) : undefined;
}

async function search(ctx: CommandContext, r: Reader): Promise<string | undefined> {
  const { session } = ctx;
  r.sp();
  const req = parseSearch(r);
  const modseqKey = usesModseq(req.key);
  if (modseqKey) await enableCondstore(session); // RFC 7162 §3.1
  const box = session.selected;
  const all = box.all();
  const bounds = { maxSeq: all.length, maxUid: all.length ? all[all.length - 1].meta.uid : 0 };
  const withIndex = needsIndex(req.key);
  const hits: Numbered[] = [];
  for (const m of all) {
    const c: Candidate = { seq: m.seq, ...m.meta };
    if (withIndex) c.index = await session.options.store.mail.getIndex(session.user, box.name, m.meta.uid);
    if (matches(req.key, c, bounds)) hits.push(m);
  }
  const nums = hits.map((m) => (ctx.uid ? m.meta.uid : m.seq));
  const maxModseq = modseqKey ? highestModseq(hits, req.returns) : undefined;
  if (req.returns) {
    // RFC 4731 §3.1
    const parts = [`* ESEARCH (TAG ${str(ctx.tag)})`];
    if (ctx.uid) parts.push('UID');
    for (const opt of req.returns) {
      if (opt === 'MIN' && nums.length) parts.push(`MIN ${Math.min(...nums)}`);
      else if (opt === 'MAX' && nums.length) parts.push(`MAX ${Math.max(...nums)}`);
      else if (opt === 'COUNT') parts.push(`COUNT ${nums.length}`);
      else if (opt === 'ALL' && nums.length) parts.push(`ALL ${formatSet(nums)}`);
      else if (!['MIN', 'MAX', 'COUNT', 'ALL'].includes(opt)) throw bad(`unknown RETURN option ${opt}`);
    }
    if (maxModseq !== undefined) parts.push(`MODSEQ ${maxModseq}`);
    await session.write(`${parts.join(' ')}\r\n`);
    return undefined;
  }
  const tail = maxModseq !== undefined ? ` (MODSEQ ${maxModseq})` : '';
  await session.write(`* SEARCH${nums.map((n) => ` ${n}`).join('')}${tail}\r\n`);
  return undefined;
}

async function storeFlags(ctx: CommandContext, r: Reader): Promise<string | undefined> {
  const { session } = ctx;
  r.sp();
  const msgs = target(ctx, r);
  r.sp();
  let unchangedSince: number | undefined;
  if (r.peek() === '(') {
    r.list(() => {
      const mod = r.atom().toUpperCase();
      if (mod !== 'UNCHANGEDSINCE') throw bad(`unknown STORE modifier ${mod}`);
      r.sp();
      unchangedSince = r.bigNumber();
    }, false);
    r.sp();
  }
  const item = r.atom('.').toUpperCase();
  const m = /^([+-]?)FLAGS(\.SILENT)?$/.exec(item);
  if (!m) throw bad('FLAGS, +FLAGS or -FLAGS expected');
  r.sp();
  const flags =
    r.peek() === '('
      ? r.list(() => r.flag())
      : (() => {
          const list = [r.flag()];
          while (r.tryChar(' ')) list.push(r.flag());
          return list;
        })();
  r.end();
  if (unchangedSince !== undefined) await enableCondstore(session); // RFC 7162 §3.1
  writable(session);
  const mode: FlagMode = m[1] === '+' ? 'add' : m[1] === '-' ? 'remove' : 'set';
  const box = session.selected;
  const cleaned = flags.filter((f) => f.toLowerCase() !== '\\recent');
  const res = msgs.length
    ? await session.options.store.mail.updateFlags(
        session.user,
        box.name,
        msgs.map((x) => x.meta.uid),
        mode,
        cleaned,
        { unchangedSince },
      )
    : { updated: [], failed: [] };
  const failed = new Set(res.failed);
  const updated = new Map(res.updated.map((u) => [u.uid, u]));
  const lines: string[] = [];
  for (const msg of msgs) {
    if (failed.has(msg.meta.uid)) continue;
    const meta = updated.get(msg.meta.uid);
    const now = meta ? (box.update(meta) ?? msg) : msg;
    // RFC 7162 §3.2: with UNCHANGEDSINCE, FETCH responses are sent even for .SILENT.
    if (m[2] && unchangedSince === undefined) continue;
    const items = [`FLAGS (${now.meta.flags.join(' ')})`];
    if (ctx.uid || session.condstore) items.unshift(`UID ${now.meta.uid}`);
    if (session.condstore) items.push(`MODSEQ (${now.meta.modseq})`);
    lines.push(`* ${now.seq} FETCH (${items.join(' ')})\r\n`);
  }
  // A new keyword goes out in FLAGS before the FETCH that shows it (RFC 3501 §7.2.6).
  const announce = [...box.takeFlagsUpdate(), ...lines];
  if (announce.length) await session.write(announce);
  if (res.failed.length) {
    const ids = ctx.uid ? res.failed : msgs.filter((x) => failed.has(x.meta.uid)).map((x) => x.seq);
    return `[MODIFIED ${formatSet(ids)}] conditional STORE failed`;
  }
  return undefined;
}

export const MESSAGE_COMMANDS: Record<string, Handler> = {
  // RFC 3501 §6.4.2: silent expunge, then back to authenticated.
  async CLOSE({ session }, r) {
    r.end();
    const box = session.selected;
    if (!box.readOnly) await session.options.store.mail.expunge(session.user, box.name);
    session.apply({ type: 'deselect' });
    return undefined;
  },
  // RFC 3691
  async UNSELECT({ session }, r) {
    r.end();
    session.apply({ type: 'deselect' });
    return undefined;
  },
  // RFC 3501 §6.4.3; UID EXPUNGE: RFC 4315 §2.1
  async EXPUNGE(ctx, r) {
    let uids: number[] | undefined;
    if (ctx.uid) {
      r.sp();
      uids = target(ctx, r).map((m) => m.meta.uid);
    }
    r.end();
    writable(ctx.session);
    if (uids && uids.length === 0) return undefined;
    await expunge(ctx.session, uids);
    return undefined;
  },
  async SEARCH(ctx, r) {
    return search(ctx, r);
  },
  async STORE(ctx, r) {
    return storeFlags(ctx, r);
  },
  async COPY(ctx, r) {
    return copyOrMove(ctx, r, false);
  },
  async MOVE(ctx, r) {
    return copyOrMove(ctx, r, true);
  },
};
