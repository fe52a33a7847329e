/**
 * The maildrop as one POP3 session sees it: a snapshot of the INBOX taken when the session
 * enters the TRANSACTION state, numbered from 1 (RFC 1939 §5), with deletion marks that touch
 * the store only in the UPDATE state (RFC 1939 §6). A session that never reaches UPDATE — a
 * dropped connection, an autologout, a shutdown — changes nothing.
 */
import type { MailStore, MessageMeta } from '@postern/store';
import { Pop3Error } from './replies.js';

export interface MaildropEntry {
  /** Message-number, 1-based, fixed for the session (RFC 1939 §5). */
  readonly number: number;
  readonly uid: number;
  /** Exact size in octets, as RETR sends it before byte-stuffing (RFC 1939 §5 LIST). */
  readonly size: number;
  /** UIDL unique-id (RFC 1939 §7): UIDVALIDITY.UID, stable across sessions while the mailbox lives. */
  readonly uniqueId: string;
  /** Flags at snapshot time, to restore \Deleted exactly if the UPDATE fails half-way. */
  readonly flagsAtOpen: readonly string[];
  deleted: boolean;
  retrieved: boolean;
}

export interface CommitResult {
  /** UIDs the store removed. */
  readonly removed: readonly number[];
  /** UIDs marked for deletion that were already gone (another session expunged them). */
  readonly missing: readonly number[];
}

export interface CommitOptions {
  /** Flag messages retrieved with RETR as \Seen, for IMAP clients of the same mailbox. */
  markSeen?: boolean;
  onSeenError?: (err: unknown) => void;
}

export class Maildrop {
  private constructor(
    private readonly mail: MailStore,
    readonly user: string,
    readonly mailbox: string,
    readonly uidValidity: number,
    private readonly entries: readonly MaildropEntry[],
  ) {}

  static async open(mail: MailStore, user: string, mailbox = 'INBOX'): Promise<Maildrop> {
    const info = await mail.getMailbox(user, mailbox);
    if (!info) throw new Pop3Error('maildrop not available', { code: 'SYS/PERM', counts: false });
    const metas: MessageMeta[] = await mail.list(user, mailbox);
    const entries = metas.map((m, i): MaildropEntry => ({
      number: i + 1,
      uid: m.uid,
      size: m.size,
      uniqueId: `${info.uidValidity}.${m.uid}`,
      flagsAtOpen: [...m.flags],
      deleted: false,
      retrieved: false,
    }));
    return new Maildrop(mail, user, mailbox, info.uidValidity, entries);
  }

  /** Messages not marked deleted, in message-number order. */
  visible(): MaildropEntry[] {
    return this.entries.filter((e) => !e.deleted);
  }

  /** STAT (RFC 1939 §5): count and octets of the messages not marked deleted. */
  stat(): { count: number; octets: number } {
    let count = 0;
    let octets = 0;
    for (const e of this.entries) {
      if (e.deleted) continue;
      count++;
      octets += e.size;
    }
    return { count, octets };
  }

  /**
   * A message by number; -ERR when out of range or marked deleted (RFC 1939 §5: "may not refer
   * to a message marked as deleted").
   */
  get(number: number): MaildropEntry {
    const entry = number >= 1 && number <= this.entries.length ? this.entries[number - 1] : undefined;
    if (!entry) throw new Pop3Error('no such message', { counts: false });
    if (entry.deleted) throw new Pop3Error(`message ${number} already deleted`, { counts: false });
    return entry;
  }

  markDeleted(number: number): void {
    this.get(number).deleted = true;
  }

  /** RSET (RFC 1939 §5): unmark every deletion. */
  reset(): void {
    for (const e of this.entries) e.deleted = false;
  }

  /**
   * The UPDATE state (RFC 1939 §6): flag the marked messages \Deleted and expunge exactly those
   * UIDs. If the expunge fails, the \Deleted flags this session added are taken back, so the
   * maildrop is as it was, and the caller answers "-ERR some deleted messages not removed".
   */
  async commit(options: CommitOptions = {}): Promise<CommitResult> {
    const doomed = this.entries.filter((e) => e.deleted);
    const uids = doomed.map((e) => e.uid);
    let removed: number[] = [];
    if (uids.length > 0) {
      await this.mail.updateFlags(this.user, this.mailbox, uids, 'add', ['\\Deleted']);
      try {
        removed = await this.mail.expunge(this.user, this.mailbox, uids);
      } catch (err) {
        const added = doomed.filter((e) => !e.flagsAtOpen.includes('\\Deleted')).map((e) => e.uid);
        if (added.length > 0) {
          await this.mail
            .updateFlags(this.user, this.mailbox, added, 'remove', ['\\Deleted'])
            .catch(() => undefined);
        }
        throw err;
      }
    }
    if (options.markSeen) {
      const seen = this.entries
        .filter((e) => e.retrieved && !e.deleted && !e.flagsAtOpen.includes('\\Seen'))
        .map((e) => e.uid);
      if (seen.length > 0) {
        await this.mail
          .updateFlags(this.user, this.mailbox, seen, 'add', ['\\Seen'])
          .catch((err: unknown) => {
            options.onSeenError?.(err);
          });
      }
    }
    const gone = new Set(removed);
    return { removed, missing: uids.filter((u) => !gone.has(u)) };
  }
}
