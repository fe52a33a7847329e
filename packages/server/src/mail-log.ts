/**
 * What arrived, for test authors: local deliveries read back from the store and mail kept in
 * capture mode, both parsed with mailparser.
 */
import { simpleParser, type AddressObject } from 'mailparser';
import type { Store } from '@postern/store';
import type { CapturedMail } from './protocols.js';

export interface MailFilter {
  /** An envelope or header recipient (case-insensitive). */
  to?: string;
  /** The envelope or header sender (case-insensitive). */
  from?: string;
  subject?: string | RegExp;
  /** Only mail delivered to this local user. */
  user?: string;
}

export interface ParsedMail {
  /** 'delivered' to a local mailbox, or 'captured' in capture mode. */
  kind: 'delivered' | 'captured';
  user?: string;
  mailbox?: string;
  uid?: number;
  envelope?: { from: string; to: string[] };
  from: string[];
  to: string[];
  subject: string;
  messageId?: string;
  date?: Date;
  text: string;
  html?: string;
  headers: Record<string, string>;
  attachments: Array<{ filename?: string; contentType: string; size: number; content: Buffer }>;
  raw: Buffer;
}

function addresses(a: AddressObject | AddressObject[] | undefined): string[] {
  if (!a) return [];
  return (Array.isArray(a) ? a : [a]).flatMap((o) => o.value.map((v) => v.address ?? '').filter(Boolean));
}

async function parse(
  raw: Buffer,
  extra: Partial<ParsedMail> & { kind: ParsedMail['kind'] },
): Promise<ParsedMail> {
  const m = await simpleParser(raw, { skipImageLinks: true });
  const headers: Record<string, string> = {};
  for (const line of m.headerLines) headers[line.key] ??= line.line.slice(line.line.indexOf(':') + 1).trim();
  return {
    ...extra,
    from: addresses(m.from),
    to: [...addresses(m.to), ...addresses(m.cc)],
    subject: m.subject ?? '',
    messageId: m.messageId,
    date: m.date,
    text: m.text ?? '',
    html: typeof m.html === 'string' ? m.html : undefined,
    headers,
    attachments: m.attachments.map((a) => ({
      filename: a.filename,
      contentType: a.contentType,
      size: a.size,
      content: a.content,
    })),
    raw,
  };
}

function matches(mail: ParsedMail, filter: MailFilter | undefined): boolean {
  if (!filter) return true;
  const lc = (s: string) => s.toLowerCase();
  if (filter.user && lc(mail.user ?? '') !== lc(filter.user)) return false;
  if (filter.to) {
    const all = [...mail.to, ...(mail.envelope?.to ?? [])].map(lc);
    if (!all.includes(lc(filter.to))) return false;
  }
  if (filter.from) {
    const all = [...mail.from, mail.envelope?.from ?? ''].map(lc);
    if (!all.includes(lc(filter.from))) return false;
  }
  if (filter.subject !== undefined) {
    if (
      typeof filter.subject === 'string'
        ? mail.subject !== filter.subject
        : !filter.subject.test(mail.subject)
    )
      return false;
  }
  return true;
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

export class MailLog {
  private captures: ParsedMail[] = [];
  private readonly parsed = new Map<string, ParsedMail>();
  private readonly wakers = new Set<() => void>();
  private closed = false;

  constructor(private readonly store: Store) {}

  async capture(mail: CapturedMail): Promise<void> {
    this.captures.push(
      await parse(mail.message, {
        kind: 'captured',
        envelope: { from: mail.envelope.from, to: [...mail.envelope.to] },
      }),
    );
    for (const w of this.wakers) w();
  }

  async captured(filter?: MailFilter): Promise<ParsedMail[]> {
    return this.captures.filter((m) => matches(m, filter));
  }

  async delivered(filter?: MailFilter): Promise<ParsedMail[]> {
    const out: ParsedMail[] = [];
    const users = filter?.user ? [filter.user] : await this.store.accounts.listUsers();
    for (const user of users) {
      const box = await this.store.mail.getMailbox(user, 'INBOX');
      if (!box) continue;
      for (const meta of await this.store.mail.list(user, 'INBOX')) {
        const key = `${user}\0${box.uidValidity}\0${meta.uid}`;
        let mail = this.parsed.get(key);
        if (!mail) {
          const raw = await readAll(await this.store.mail.openMessage(user, 'INBOX', meta.uid));
          mail = await parse(raw, { kind: 'delivered', user, mailbox: 'INBOX', uid: meta.uid });
          this.parsed.set(key, mail);
        }
        if (matches(mail, filter)) out.push(mail);
      }
    }
    return out;
  }

  async waitFor(filter: MailFilter | undefined, timeoutMs: number): Promise<ParsedMail> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const hit = (await this.captured(filter))[0] ?? (await this.delivered(filter))[0];
      if (hit) return hit;
      if (this.closed) throw new Error('gateway closed while waiting for a message');
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(`no message matching ${JSON.stringify(filter ?? {})} within ${timeoutMs} ms`);
      // Woken by a capture at once; local deliveries are polled (every store backend, no hooks needed).
      await new Promise<void>((resolve) => {
        const waker = () => {
          clearTimeout(timer);
          this.wakers.delete(waker);
          resolve();
        };
        const timer = setTimeout(waker, Math.min(left, 25));
        this.wakers.add(waker);
      });
    }
  }

  async reset(): Promise<void> {
    this.captures = [];
    this.parsed.clear();
    for (const user of await this.store.accounts.listUsers()) {
      for (const box of await this.store.mail.listMailboxes(user)) {
        const uids = (await this.store.mail.list(user, box.name)).map((m) => m.uid);
        if (uids.length === 0) continue;
        await this.store.mail.updateFlags(user, box.name, uids, 'add', ['\\Deleted']);
        await this.store.mail.expunge(user, box.name, uids);
      }
    }
  }

  close(): void {
    this.closed = true;
    for (const w of this.wakers) w();
  }
}
