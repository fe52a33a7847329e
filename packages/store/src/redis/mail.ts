/**
 * Mailboxes on Redis: the scripts in lua-mail.ts do every change atomically in the user's
 * slot; this side validates names, runs the indexer once per delivery, and computes flag
 * changes with the shared rules (src/common) before a compare-and-set script applies them.
 */
import { randomBytes } from 'node:crypto';
import type { Readable } from 'node:stream';
import {
  MAILBOX_DELIMITER,
  applyFlagMode,
  canonicalMailbox,
  canonicalUser,
  hasFlag,
  normalizeFlags,
  normalizeUids,
  readSource,
  sameFlags,
  validateMailbox,
} from '../common/index.js';
import { indexMessage } from '../indexer/index.js';
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
import { bodyStream } from './body-stream.js';
import type { LuaScript } from './connection.js';
import type { RedisContext } from './context.js';
import * as L from './lua-mail.js';
import { bit, publicMeta, storedMeta, toInfo, toMeta, type StoredMeta } from './mail-rows.js';

/** A flag update that keeps losing its compare-and-set this often is reported as temporary. */
const MAX_FLAG_ATTEMPTS = 50;

/** UIDVALIDITY from the clock (seconds), as the other backends; the script keeps it increasing. */
const uidValidityNow = () => String(Math.floor(Date.now() / 1000) % 0xffffffff);

export class RedisMailStore implements MailStore {
  constructor(private readonly ctx: RedisContext) {}

  /** Runs a mail script in `user`'s slot (calling convention in lua-mail.ts). */
  private run(script: LuaScript, user: string, args: Array<string | number | Buffer>): Promise<unknown> {
    const prefix = this.ctx.keys.user(user);
    return script.run(this.ctx.redis, [`${prefix}boxes`], [prefix, user, this.ctx.keys.feedChannel, ...args]);
  }

  /** Called by accounts once the user is claimed: INBOX and the special-use mailboxes. */
  async provision(
    user: string,
    boxes: ReadonlyArray<{ name: string; specialUse: SpecialUse | null }>,
  ): Promise<void> {
    await this.run(L.PROVISION, user, [
      uidValidityNow(),
      ...boxes.flatMap((b) => [b.name, b.specialUse ?? '']),
    ]);
  }

  /** Called by accounts when a user is deleted: every watcher learns its mailbox is gone. */
  async remove(user: string): Promise<void> {
    await this.run(L.DROP_USER, user, []);
  }

  async listMailboxes(user: string): Promise<MailboxInfo[]> {
    const rows = (await this.run(L.LIST_INFO, canonicalUser(user), [])) as unknown[];
    return rows
      .map(toInfo)
      .sort((a, b) => order(a.name) - order(b.name) || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async getMailbox(user: string, mailbox: string): Promise<MailboxInfo | undefined> {
    const row = await this.run(L.INFO, canonicalUser(user), [canonicalMailbox(mailbox)]);
    return row ? toInfo(row) : undefined;
  }

  async createMailbox(user: string, mailbox: string, specialUse?: SpecialUse): Promise<MailboxInfo> {
    const name = canonicalMailbox(mailbox);
    validateMailbox(name);
    return toInfo(
      await this.run(L.CREATE_BOX, canonicalUser(user), [name, specialUse ?? '', uidValidityNow()]),
    );
  }

  async deleteMailbox(user: string, mailbox: string): Promise<void> {
    const name = canonicalMailbox(mailbox);
    if (name === 'INBOX') throw new StoreError('INVALID_NAME', 'INBOX cannot be deleted');
    await this.run(L.DELETE_BOX, canonicalUser(user), [name]);
  }

  async renameMailbox(user: string, from: string, to: string): Promise<void> {
    const src = canonicalMailbox(from);
    const dst = canonicalMailbox(to);
    validateMailbox(dst);
    const u = canonicalUser(user);
    if (src === 'INBOX') {
      // RFC 3501 §6.3.5: renaming INBOX moves its messages to the new name; INBOX stays, empty.
      if (!(await this.getMailbox(u, 'INBOX'))) throw new StoreError('NOT_FOUND', 'no such mailbox');
      await this.createMailbox(u, dst);
      const uids = (await this.list(u, 'INBOX')).map((m) => m.uid);
      if (uids.length) await this.move(u, 'INBOX', uids, dst);
      return;
    }
    if (dst.startsWith(src + MAILBOX_DELIMITER))
      throw new StoreError('INVALID_NAME', 'cannot rename a mailbox into itself');
    await this.run(L.RENAME_BOX, u, [src, dst]);
  }

  async setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void> {
    await this.run(L.SET_SUBSCRIBED, canonicalUser(user), [canonicalMailbox(mailbox), bit(subscribed)]);
  }

  async listSubscriptions(user: string): Promise<string[]> {
    return (await this.run(L.LIST_SUBSCRIPTIONS, canonicalUser(user), [])) as string[];
  }

  async append(
    user: string,
    mailbox: string,
    message: MessageSource,
    options?: { flags?: string[]; internalDate?: Date },
  ): Promise<{ uid: number; uidValidity: number; modseq: number }> {
    const [r] = await this.deliverToOneUser(
      canonicalUser(user),
      [{ user, mailbox, flags: options?.flags }],
      await ingest(message),
      options?.internalDate ?? new Date(),
    );
    return { uid: r!.uid, uidValidity: r!.uidValidity, modseq: r!.modseq };
  }

  /**
   * All targets of one user are one script (atomic). Several users are several slots: every
   * target is checked first, then each user's script runs; should a mailbox vanish between
   * the check and its script, what was already delivered is expunged again before the
   * error is thrown, so the caller's retry does not duplicate it.
   */
  async deliver(
    targets: DeliveryTarget[],
    message: MessageSource,
    options?: { internalDate?: Date },
  ): Promise<Array<{ user: string; mailbox: string; uid: number }>> {
    const byUser = new Map<string, DeliveryTarget[]>();
    for (const t of targets) {
      const u = canonicalUser(t.user);
      byUser.set(u, [...(byUser.get(u) ?? []), t]);
    }
    if (byUser.size > 1)
      for (const t of targets)
        if (!(await this.getMailbox(t.user, t.mailbox ?? 'INBOX')))
          throw new StoreError('NOT_FOUND', 'no such mailbox');
    const content = await ingest(message);
    const date = options?.internalDate ?? new Date();
    const done: Array<{ user: string; mailbox: string; uid: number; target: DeliveryTarget }> = [];
    try {
      for (const [u, ts] of byUser) {
        const rs = await this.deliverToOneUser(u, ts, content, date);
        rs.forEach((r, i) => done.push({ user: u, mailbox: r.mailbox, uid: r.uid, target: ts[i]! }));
      }
    } catch (err) {
      for (const d of done) await this.undeliver(d.user, d.mailbox, d.uid).catch(() => undefined);
      throw err;
    }
    // In the caller's order of targets.
    return targets.map((t) => {
      const d = done.find((x) => x.target === t)!;
      return { user: d.user, mailbox: d.mailbox, uid: d.uid };
    });
  }

  private async undeliver(user: string, mailbox: string, uid: number): Promise<void> {
    await this.updateFlags(user, mailbox, [uid], 'add', ['\\Deleted']);
    await this.expunge(user, mailbox, [uid]);
  }

  private async deliverToOneUser(
    user: string,
    targets: DeliveryTarget[],
    content: { bytes: Buffer; index: MessageIndex },
    date: Date,
  ): Promise<Array<{ mailbox: string; uid: number; uidValidity: number; modseq: number }>> {
    const blob = randomBytes(12).toString('hex');
    const args: Array<string | Buffer> = [
      blob,
      content.bytes,
      JSON.stringify(content.index),
      String(content.bytes.length),
    ];
    for (const t of targets) {
      const flags = normalizeFlags(t.flags ?? []);
      const meta = storedMeta({ b: blob, s: content.bytes.length, d: date.getTime(), f: flags });
      args.push(
        canonicalMailbox(t.mailbox ?? 'INBOX'),
        meta,
        bit(hasFlag(flags, '\\Seen')),
        bit(hasFlag(flags, '\\Deleted')),
      );
    }
    const rows = (await this.run(L.DELIVER, user, args)) as Array<[string, number, number, string]>;
    return rows.map(([uidv, uid, modseq, mailbox]) => ({ mailbox, uid, uidValidity: Number(uidv), modseq }));
  }

  private async transfer(user: string, from: string, uids: number[], to: string, remove: boolean) {
    const out = (await this.run(L.TRANSFER, canonicalUser(user), [
      canonicalMailbox(from),
      canonicalMailbox(to),
      bit(remove),
      ...normalizeUids(uids).map(String),
    ])) as [string, ...number[]];
    const map: Array<[number, number]> = [];
    for (let i = 1; i < out.length; i += 2) map.push([Number(out[i]), Number(out[i + 1])]);
    return { uidValidity: Number(out[0]), map };
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
  ): Promise<{ updated: MessageMeta[]; failed: number[] }> {
    const wanted = normalizeUids(uids);
    if (wanted.length === 0) {
      await this.list(user, mailbox, { start: 1, end: 1 }); // NOT_FOUND for a missing mailbox
      return { updated: [], failed: [] };
    }
    const asked = new Set(wanted);
    const box = canonicalMailbox(mailbox);
    for (let attempt = 0; attempt < MAX_FLAG_ATTEMPTS; attempt++) {
      const snapshot = (await this.listStored(user, box, wanted[0]!, wanted[wanted.length - 1]!)).filter(
        (m) => asked.has(m.uid),
      );
      const updated: Array<MessageMeta & { stored: StoredMeta }> = [];
      const failed: number[] = [];
      const args: string[] = [box];
      const changed: Array<MessageMeta & { stored: StoredMeta }> = [];
      for (const m of snapshot) {
        // RFC 7162 §3.1.3: UNCHANGEDSINCE refuses messages changed after it.
        if (options?.unchangedSince !== undefined && m.modseq > options.unchangedSince) {
          failed.push(m.uid);
          continue;
        }
        const next = applyFlagMode(m.flags, mode, flags);
        if (!sameFlags(next, m.flags)) {
          const stored = { ...m.stored, f: next };
          args.push(String(m.uid), String(m.modseq), storedMeta(stored), bit(hasFlag(next, '\\Seen')));
          args.push(bit(hasFlag(next, '\\Deleted')), JSON.stringify(next));
          m.flags = next;
          m.stored = stored;
          changed.push(m);
        }
        updated.push(m);
      }
      if (changed.length) {
        const result = (await this.run(L.SET_FLAGS, canonicalUser(user), args)) as Array<number | string>;
        if (result[0] === 'CONFLICT') continue;
        changed.forEach((m, i) => (m.modseq = Number(result[i])));
      }
      return { updated: updated.map(publicMeta), failed };
    }
    throw new StoreError('UNAVAILABLE', 'flags changed concurrently too often; try again');
  }

  async expunge(user: string, mailbox: string, uids?: number[]): Promise<number[]> {
    const only = uids ? ['1', ...normalizeUids(uids).map(String)] : ['0'];
    return (await this.run(L.EXPUNGE, canonicalUser(user), [canonicalMailbox(mailbox), ...only])) as number[];
  }

  private async listStored(
    user: string,
    mailbox: string,
    low: number,
    high: number,
    changedSince?: number,
  ): Promise<Array<MessageMeta & { stored: StoredMeta }>> {
    const out = (await this.run(L.LIST, canonicalUser(user), [
      canonicalMailbox(mailbox),
      String(low),
      high === Infinity ? '+inf' : String(high),
      changedSince === undefined ? '' : String(changedSince),
    ])) as string[];
    const metas: Array<MessageMeta & { stored: StoredMeta }> = [];
    for (let i = 0; i < out.length; i += 3) metas.push(toMeta(out[i]!, out[i + 1]!, out[i + 2]!));
    return metas;
  }

  async list(
    user: string,
    mailbox: string,
    range?: UidRange,
    options?: { changedSince?: number },
  ): Promise<MessageMeta[]> {
    const low = range ? Math.min(range.start, range.end) : 1;
    const high = range ? Math.max(range.start, range.end) : Infinity;
    return (await this.listStored(user, mailbox, low, high, options?.changedSince)).map(publicMeta);
  }

  async getIndex(user: string, mailbox: string, uid: number): Promise<MessageIndex | undefined> {
    const row = (await this.run(L.MESSAGE, canonicalUser(user), [
      canonicalMailbox(mailbox),
      String(uid),
      '1',
    ])) as [string, string, string] | null;
    return row ? (JSON.parse(row[2]) as MessageIndex) : undefined;
  }

  async openMessage(
    user: string,
    mailbox: string,
    uid: number,
    range?: { start: number; end: number },
  ): Promise<Readable> {
    const u = canonicalUser(user);
    const row = (await this.run(L.MESSAGE, u, [canonicalMailbox(mailbox), String(uid), '0'])) as
      [string, string] | null;
    if (!row) throw new StoreError('NOT_FOUND', 'no such message');
    return bodyStream(this.ctx.redis, `${this.ctx.keys.user(u)}body:${row[0]}`, Number(row[1]), range);
  }

  watch(user: string, mailbox: string, listener: (change: MailChange) => void): Unsubscribe {
    return this.ctx.feed.watchMail(user, mailbox, listener);
  }

  async tryLock(user: string, mailbox: string, ttlMs = 30 * 60_000): Promise<MailboxLock | undefined> {
    // A token per holder: a late release of an expired lock never frees the next holder's.
    const token = randomBytes(12).toString('hex');
    const key = (await this.run(L.TRY_LOCK, canonicalUser(user), [
      canonicalMailbox(mailbox),
      token,
      String(ttlMs),
    ])) as string | null;
    if (!key) return undefined;
    let released = false;
    return {
      release: async () => {
        if (released) return;
        released = true;
        await L.RELEASE_LOCK.run(this.ctx.redis, [key], [token]);
      },
    };
  }
}

/** INBOX first, then the rest by name (LIST output is sorted by the IMAP layer anyway). */
const order = (name: string) => (name === 'INBOX' ? 0 : 1);

async function ingest(message: MessageSource): Promise<{ bytes: Buffer; index: MessageIndex }> {
  const bytes = await readSource(message);
  return { bytes, index: await indexMessage(bytes) };
}
