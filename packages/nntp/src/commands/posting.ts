/**
 * POST (RFC 3977 §6.3.1) and IHAVE (§6.3.2). Both need an authenticated user (RFC 4643 §2.1);
 * the article is read whole (within maxArticleSize), checked and completed by
 * article/prepare.ts, stored once for every group it names that exists here, then handed to
 * the gateway for the groups' mail subscribers.
 */
import { BlockTooLargeError } from '@postern/core';
import { StoreError } from '@postern/store';
import { ArticleRejectedError, prepareArticle, type PreparedArticle } from '../article/prepare.js';
import type { CommandHandler } from '../commands.js';
import { newsToMail } from '../gateway/news-to-mail.js';
import { authRequired, errorText, NntpError, syntaxError } from '../replies.js';
import type { NntpSession } from '../session.js';
import { isMessageId } from '../syntax.js';

/** The dot-terminated article, or undefined when it was larger than the limit (and drained). */
async function readArticle(s: NntpSession): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of s.channel.readDotBlock(s.options.maxArticleSize)) chunks.push(chunk as Buffer);
  } catch (err) {
    if (err instanceof BlockTooLargeError) return undefined;
    throw err;
  }
  return Buffer.concat(chunks);
}

/**
 * The groups of the Newsgroups header that exist here and accept the article: unknown groups
 * are skipped (RFC 5537 §3.5 leaves them to other servers), a group with posting status "n"
 * refuses local postings, a moderated one ("m") wants an Approved header (RFC 5537 §3.5.1).
 */
async function targetGroups(
  s: NntpSession,
  article: PreparedArticle,
  mode: 'post' | 'ihave',
): Promise<string[]> {
  const groups: string[] = [];
  for (const name of article.groups) {
    const info = await s.news.getGroup(name);
    if (!info) continue;
    if (info.posting === 'n' && mode === 'post')
      throw new ArticleRejectedError(`posting to ${name} is not permitted`);
    if (info.posting === 'm' && !article.headers.has('Approved')) {
      throw new ArticleRejectedError(`${name} is moderated`);
    }
    groups.push(name);
  }
  if (groups.length === 0) throw new ArticleRejectedError('no such newsgroup here');
  return groups;
}

/** Mail the article to subscribers; a failure is logged, never undoes the post. */
async function gateway(s: NntpSession, groups: string[], data: Buffer): Promise<void> {
  if (!s.options.gateway) return;
  try {
    const result = await newsToMail(s.options.store, groups, data, { hostname: s.options.hostname });
    if (result.status === 'queued')
      s.log.info(
        { queueId: result.queueId, recipients: result.recipients.length },
        'article gatewayed to mail',
      );
  } catch (err) {
    s.log.error({ err: errorText(err) }, 'gateway to mail failed');
  }
}

export const postCommand: CommandHandler = async (s, args) => {
  if (args.length > 0) throw syntaxError();
  if (!s.authenticated) throw authRequired();
  await s.reply(340, 'Send article to be posted. End with <CR-LF>.<CR-LF>');
  const raw = await readArticle(s);
  // RFC 3977 §6.3.1.2: every failure after the article was sent is 441.
  if (!raw) throw new NntpError(441, `Article larger than ${s.options.maxArticleSize} octets`);
  try {
    const article = prepareArticle(raw, {
      hostname: s.options.hostname,
      mode: 'post',
      maxGroups: s.options.maxCrossPosts,
    });
    const groups = await targetGroups(s, article, 'post');
    await s.news.post(groups, article.messageId, article.data);
    s.log.info(
      {
        messageId: article.messageId,
        groups: groups.length,
        user: s.state.auth.kind === 'authenticated' ? s.state.auth.user : undefined,
      },
      'article posted',
    );
    await gateway(s, groups, article.data);
  } catch (err) {
    if (err instanceof ArticleRejectedError) throw new NntpError(441, `Posting failed: ${err.reason}`);
    if (err instanceof StoreError && err.code === 'DUPLICATE')
      throw new NntpError(441, 'Posting failed: duplicate Message-ID');
    s.log.error({ err: errorText(err) }, 'POST failed');
    throw new NntpError(441, 'Posting failed');
  }
  await s.reply(240, 'Article received OK');
};

export const ihaveCommand: CommandHandler = async (s, args) => {
  if (args.length !== 1 || !isMessageId(args[0])) throw syntaxError();
  if (!s.authenticated) throw authRequired();
  const messageId = args[0];
  // RFC 3977 §6.3.2.2: 435 before the transfer when the article is already here.
  if (await s.news.hasMessageId(messageId)) throw new NntpError(435, 'Article not wanted');
  await s.reply(335, 'Send it; end with <CR-LF>.<CR-LF>');
  const raw = await readArticle(s);
  if (!raw)
    throw new NntpError(437, `Transfer rejected; article larger than ${s.options.maxArticleSize} octets`);
  try {
    const article = prepareArticle(raw, {
      hostname: s.options.hostname,
      mode: 'ihave',
      messageId,
      maxGroups: s.options.maxCrossPosts,
    });
    const groups = await targetGroups(s, article, 'ihave');
    await s.news.post(groups, article.messageId, article.data);
    s.log.info({ messageId, groups: groups.length }, 'article transferred');
    await gateway(s, groups, article.data);
  } catch (err) {
    if (err instanceof ArticleRejectedError) throw new NntpError(437, `Transfer rejected; ${err.reason}`);
    // §6.3.2.2: it arrived meanwhile from elsewhere — rejected, do not retry.
    if (err instanceof StoreError && err.code === 'DUPLICATE')
      throw new NntpError(437, 'Transfer rejected; duplicate');
    s.log.error({ err: errorText(err) }, 'IHAVE failed');
    throw new NntpError(436, 'Transfer failed; try again later');
  }
  await s.reply(235, 'Article transferred OK');
};
