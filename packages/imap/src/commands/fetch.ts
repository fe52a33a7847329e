/**
 * FETCH and UID FETCH (RFC 3501 §6.4.5, §6.4.8) with CHANGEDSINCE (RFC 7162 §3.1.4.1).
 * Fetching a body section without .PEEK sets \Seen (not in an EXAMINEd mailbox), and the
 * new flags are shown in the same response.
 */
import { parseFetchRequest } from '../fetch-items.js';
import { renderFetch, setsSeen } from '../fetch-render.js';
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
    if (req.changedSince !== undefined) {
      session.enabled.add('CONDSTORE'); // RFC 7162 §3.1: CONDSTORE-enabling
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
    for (const msg of msgs) {
      const chunks = await renderFetch({ store, user: session.user, mailbox: box.name }, msg, req.items, {
        uid: ctx.uid || req.changedSince !== undefined,
        modseq: wantModseq || (session.condstore && seen.has(msg.meta.uid)),
        flagsChanged: seen.has(msg.meta.uid),
      });
      // A message expunged by another session and not yet announced: nothing to show (RFC 3501 §7.4.1 leaves it in place).
      if (chunks) await session.write(chunks);
    }
    return undefined;
  },
};
