/**
 * News to mail: an article posted to groups with subscribers is mailed to them through the
 * relay queue, once per article whatever the number of groups, unless it came from the mail
 * gateway itself (loop prevention, see marks.ts).
 */
import type { Store } from '@postern/store';
import { ArticleFormatError, ParsedArticle } from '../article/headers.js';
import { GATEWAY_HEADER, gatewayMark, isGatewayed } from './marks.js';

export interface NewsToMailOptions {
  hostname?: string;
  /**
   * Envelope sender of the mail. Default '' (the null sender, RFC 5321 §4.5.5): a bounce of
   * gatewayed news must not come back to a group address and be posted.
   */
  envelopeFrom?: string;
}

export interface NewsToMailResult {
  status: 'queued' | 'loop' | 'no-subscribers' | 'rejected';
  queueId?: string;
  recipients: string[];
}

export async function newsToMail(
  store: Store,
  groups: readonly string[],
  article: Buffer,
  options: NewsToMailOptions = {},
): Promise<NewsToMailResult> {
  let headers: ParsedArticle;
  try {
    headers = ParsedArticle.parse(article);
  } catch (err) {
    if (err instanceof ArticleFormatError) return { status: 'rejected', recipients: [] };
    throw err;
  }
  if (isGatewayed(headers)) return { status: 'loop', recipients: [] };

  const recipients: string[] = [];
  const seen = new Set<string>();
  let listAddress: string | null = null;
  for (const name of groups) {
    const group = await store.news.getGroup(name);
    if (!group) continue;
    listAddress ??= group.mailAddress;
    // The group's own address never receives its articles: that would be a loop by design.
    const own = group.mailAddress?.toLowerCase();
    for (const address of await store.news.listSubscribers(name)) {
      const key = address.toLowerCase();
      if (key === own || seen.has(key)) continue;
      seen.add(key);
      recipients.push(address);
    }
  }
  if (recipients.length === 0) return { status: 'no-subscribers', recipients };

  headers.prepend(GATEWAY_HEADER, gatewayMark('news-to-mail', options.hostname));
  if (!headers.has('To') && listAddress) headers.set('To', listAddress);
  const queueId = await store.queue.enqueue(
    { from: options.envelopeFrom ?? '', to: recipients },
    headers.toBuffer(),
  );
  return { status: 'queued', queueId, recipients };
}
