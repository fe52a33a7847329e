/** The rows the mail scripts return, as the MailStore types (layout in lua-mail.ts). */
import type { MailboxInfo, MessageMeta, SpecialUse } from '../types.js';

/** The per-message JSON kept in `meta:<id>` (see lua-mail.ts). */
export interface StoredMeta {
  b: string;
  s: number;
  d: number;
  f: string[];
}

export const bit = (b: boolean) => (b ? '1' : '0');
export const storedMeta = (m: StoredMeta) => JSON.stringify(m);

export function toInfo(row: unknown): MailboxInfo {
  const [name, special, sub, uidv, next, modseq, messages, unseen] = row as string[];
  return {
    name: name!,
    specialUse: (special || null) as SpecialUse | null,
    uidValidity: Number(uidv),
    uidNext: Number(next),
    highestModseq: Number(modseq),
    messages: Number(messages),
    unseen: Number(unseen),
    // \Recent is not kept (IMAP4rev2, RFC 9051, dropped it); sessions may compute their own.
    recent: 0,
    subscribed: sub === '1',
  };
}

export function toMeta(
  uid: string | number,
  modseq: string | number,
  json: string,
): MessageMeta & { stored: StoredMeta } {
  const stored = JSON.parse(json) as StoredMeta;
  return {
    uid: Number(uid),
    flags: [...stored.f],
    modseq: Number(modseq),
    size: stored.s,
    internalDate: new Date(stored.d),
    stored,
  };
}

export const publicMeta = ({ uid, flags, modseq, size, internalDate }: MessageMeta): MessageMeta => ({
  uid,
  flags,
  modseq,
  size,
  internalDate,
});
