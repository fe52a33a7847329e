/**
 * Mail to news: a message arriving over SMTP for an address bound to a newsgroup
 * (`postern group add NAME --mail-address ADDRESS`) becomes an article in that group. The
 * Message-ID is kept (so the same message arriving twice is stored once), Newsgroups is set to
 * the group, Subject, Date and Path are supplied when missing, and the article is marked so
 * that the gateway never mails it back out.
 */
import { StoreError, type Store } from '@postern/store';
import { ArticleFormatError, ParsedArticle } from '../article/headers.js';
import { newMessageId } from '../article/prepare.js';
import { isArticleMessageId, rfc5322Date } from '../syntax.js';
import { GATEWAY_HEADER, gatewayMark, isAutomaticMail, isGatewayed } from './marks.js';

export type MailToNewsStatus =
  /** Stored as an article. */
  | 'posted'
  /** The address is not bound to any group: deliver it as mail. */
  | 'not-a-group'
  /** Already gatewayed once, or machine-generated: accepted and dropped, never posted. */
  | 'loop'
  /** The Message-ID is already in the news store: accepted and dropped. */
  | 'duplicate'
  /** Not an article even after repair (no From, malformed header block). */
  | 'rejected';

export interface MailToNewsResult {
  status: MailToNewsStatus;
  group?: string;
  messageId?: string;
  number?: number;
  reason?: string;
}

export interface MailToNewsOptions {
  /** Path identity and Message-ID domain; default 'localhost'. */
  hostname?: string;
  now?: Date;
}

/** The full decision, for callers that want to know why a message was not posted. */
export async function gatewayMailToNews(
  store: Store,
  recipientAddress: string,
  message: Buffer,
  options: MailToNewsOptions = {},
): Promise<MailToNewsResult> {
  const group = await store.news.groupByMailAddress(recipientAddress);
  if (!group) return { status: 'not-a-group' };
  const hostname = options.hostname ?? 'localhost';
  let headers: ParsedArticle;
  try {
    headers = ParsedArticle.parse(message);
  } catch (err) {
    if (err instanceof ArticleFormatError)
      return { status: 'rejected', group: group.name, reason: err.message };
    throw err;
  }
  if (isGatewayed(headers))
    return { status: 'loop', group: group.name, reason: `already has ${GATEWAY_HEADER}` };
  if (isAutomaticMail(headers)) return { status: 'loop', group: group.name, reason: 'automatic mail' };
  if (!headers.get('From')) return { status: 'rejected', group: group.name, reason: 'missing From header' };

  let messageId = headers.get('Message-ID');
  if (messageId === undefined || !isArticleMessageId(messageId)) {
    messageId = newMessageId(hostname);
    headers.set('Message-ID', messageId);
  }
  if (await store.news.hasMessageId(messageId)) return { status: 'duplicate', group: group.name, messageId };

  // RFC 5536 §3.1: Newsgroups names the group the address is bound to, whatever the mail said.
  headers.set('Newsgroups', group.name);
  if (!headers.get('Subject')) headers.set('Subject', '(no subject)');
  if (!headers.get('Date')) headers.set('Date', rfc5322Date(options.now ?? new Date()));
  const path = headers.get('Path');
  if (path) headers.set('Path', `${hostname}!${path}`);
  else headers.prepend('Path', `${hostname}!not-for-mail`);
  headers.prepend(GATEWAY_HEADER, gatewayMark('mail-to-news', hostname));

  try {
    const refs = await store.news.post([group.name], messageId, headers.toBuffer());
    return { status: 'posted', group: group.name, messageId, number: refs[0]?.number };
  } catch (err) {
    if (err instanceof StoreError && err.code === 'DUPLICATE')
      return { status: 'duplicate', group: group.name, messageId };
    throw err;
  }
}

/**
 * For the SMTP side: true when `recipientAddress` belongs to a group and the message was posted
 * to it. A 'loop' or 'duplicate' answer is also final for the SMTP side: accept and drop.
 */
export async function mailToNews(
  store: Store,
  recipientAddress: string,
  message: Buffer,
  options?: MailToNewsOptions,
): Promise<boolean> {
  return (await gatewayMailToNews(store, recipientAddress, message, options)).status === 'posted';
}
