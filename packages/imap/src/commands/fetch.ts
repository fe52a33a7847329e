/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8) with CHANGEDSINCE (RFC 7162 §3.1.4.1).
 * Fetching a body section without .PEEK sets \Seen (not in an EXAMINEd mailbox), and the
 * new flags are shown in the same response.
 */
import { parseFetchRequest } from '../fetch-items.js';
import { renderFetch, setsSeen } from '../fetch-render.js';
import type { Chunk } from '../format.js';
import type { ImapSession } from '../session.js';
import { enableCondstore } from '../condstore.js';
import { isNotFound, messagesGone } from '../store-errors.js';
import type { Handler } from './table.js';
import { target } from './message.js';

export const FETCH_COMMANDS: Record<string, Handler> = {
  async FETCH(ctx, r) {
    const { session } = ctx;
    r.sp();
    let msgs = target(ctx, r);
    r.sp();
    const req = parseFetchRequest(r);
    r.end();
    // RFC 7162 §3.1: CHANGEDSINCE and the MODSEQ item are CONDSTORE-enabling.
    if (req.changedSince !== undefined || req.items.some((i) => i.kind === 'MODSEQ'))
      await enableCondstore(session);
    if (req.changedSince !== undefined) {
      const since = req.changedSince;
      msgs = msgs.filter((m) => m.meta.modseq > since);
    }
    const box = session.selected;
    const store = session.options.store.mail;
    let seen = new Set<number>();
    if (!box.readOnly && setsSeen(req.items)) {
      const unseen = msgs.filter((m) => !m.meta.flags.includes('\\Seen')).map((m) => m.meta.uid);
      if (unseen.length) {
        const res = await store.updateFlags(session.user, box.name, unseen, 'add', ['\\Seen']);
        for (const meta of res.updated) box.update(meta);
        seen = new Set(res.updated.map((m) => m.uid));
        msgs = msgs.map((m) =>
          seen.has(m.meta.uid) ? (box.resolve([{ start: m.meta.uid, end: m.meta.uid }], true)[0] ?? m) : m,
        );
      }
    }
    const wantModseq =
      session.condstore && (req.changedSince !== undefined || req.items.some((i) => i.kind === 'FLAGS'));
    const where = { store, user: session.user, mailbox: box.name };
    const out = new ResponseBatch(session);
    let gone = false;
    try {
      for (const msg of msgs) {
        let chunks: Chunk[] | undefined;
        try {
          chunks = await renderFetch(where, msg, req.items, {
            uid: ctx.uid || req.changedSince !== undefined,
            modseq: wantModseq || (session.condstore && seen.has(msg.meta.uid)),
            flagsChanged: seen.has(msg.meta.uid),
          });
        } catch (err) {
          if (!isNotFound(err)) throw err;
        }
        // Expunged by another session and not yet announced (RFC 3501 §7.4.1 keeps its number):
        // the other messages are still shown, then the tagged NO of RFC 2180 §4.1.2.
        if (chunks) await out.add(chunks);
        else gone = true;
      }
    } catch (err) {
      // What was rendered before the failure still goes out, ahead of the tagged NO.
      await out.flush().catch(() => undefined);
      throw err;
    }
    await out.flush();
    if (gone) throw await messagesGone(store, session.user, box.name);
    return undefined;
  },
};

/** Bytes of responses gathered before one write to the channel. */
const BATCH_BYTES = 64 * 1024;

/**
 * Untagged FETCH responses gathered into one write per ~64 KiB instead of one per message:
 * `FETCH 1:*` on a large mailbox otherwise spends most of its time in a socket write per
 * message. Adjacent text is joined into one string, so each batch is encoded once.
 */
class ResponseBatch {
  private parts: Chunk[] = [];
  private size = 0;

  constructor(private readonly session: ImapSession) {}

  async add(chunks: Chunk[]): Promise<void> {
    for (const c of chunks) {
      const last = this.parts.length - 1;
      if (typeof c === 'string' && typeof this.parts[last] === 'string') this.parts[last] += c;
      else this.parts.push(c);
      this.size += c.length;
    }
    if (this.size >= BATCH_BYTES) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.parts.length === 0) return;
    const parts = this.parts;
    this.parts = [];
    this.size = 0;
    await this.session.write(parts);
  }
}
