/**
 * Choosing "the article" of ARTICLE, HEAD, BODY, STAT (RFC 3977 §6.2), OVER and HDR (§8):
 * by message-id, by number in the selected group, or the current article.
 */
import type { GroupInfo } from '@postern/store';
import { NntpError, syntaxError } from '../replies.js';
import type { NntpSession } from '../session.js';
import { isMessageId, parseArticleNumber, parseRange, type ArticleRange } from '../syntax.js';

export interface ResolvedArticle {
  /** 0 when chosen by message-id (RFC 3977 §6.2.1.2). */
  number: number;
  messageId: string;
}

const noSuchMessageId = () => new NntpError(430, 'No article with that message-id');
export const noCurrentArticle = () => new NntpError(420, 'Current article number is invalid');

/** A group the session may use: 411 when missing, and when hidden from an anonymous reader. */
export async function readableGroup(s: NntpSession, name: string): Promise<GroupInfo> {
  const info = await s.news.getGroup(name);
  // An anonymous reader does not learn that a private group exists.
  if (!info || !s.canRead(name)) throw new NntpError(411, 'No such newsgroup');
  return info;
}

/** Article by message-id, or 430; an article in no group the session may read is not there. */
export async function articleByMessageId(s: NntpSession, messageId: string): Promise<ResolvedArticle> {
  const ref = await s.news.articleById(messageId);
  if (!ref || !s.canRead(ref.group)) throw noSuchMessageId();
  return { number: 0, messageId: ref.messageId };
}

/**
 * ARTICLE/HEAD/BODY/STAT's argument. A number selects that article as current (§6.2.1.2);
 * a message-id leaves the current article alone.
 */
export async function resolveArticle(s: NntpSession, arg: string | undefined): Promise<ResolvedArticle> {
  if (arg !== undefined && arg.startsWith('<')) {
    if (!isMessageId(arg)) throw syntaxError('Invalid message-id');
    s.requireReader();
    return articleByMessageId(s, arg);
  }
  s.requireReader();
  if (arg !== undefined) {
    const n = parseArticleNumber(arg);
    if (n === undefined) throw syntaxError('Invalid article number');
    const group = s.selectedGroup();
    const ref = await s.news.articleByNumber(group, n);
    if (!ref) throw new NntpError(423, 'No article with that number');
    s.apply({ type: 'select-article', article: n });
    return { number: n, messageId: ref.messageId };
  }
  const group = s.selectedGroup();
  const current = s.state.article;
  if (current === null) throw noCurrentArticle();
  const ref = await s.news.articleByNumber(group, current);
  if (!ref) throw noCurrentArticle();
  return { number: current, messageId: ref.messageId };
}

/**
 * OVER/HDR's range argument (RFC 3977 §8.3.2): a range in the selected group, or without an
 * argument the current article.
 */
export function rangeOrCurrent(
  s: NntpSession,
  arg: string | undefined,
): { group: string; range: ArticleRange } {
  const group = s.selectedGroup();
  if (arg === undefined) {
    const current = s.state.article;
    if (current === null) throw noCurrentArticle();
    return { group, range: { low: current, high: current } };
  }
  const range = parseRange(arg);
  if (!range) throw syntaxError('Invalid range');
  return { group, range };
}
