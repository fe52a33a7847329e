/**
 * Article retrieval: ARTICLE (RFC 3977 §6.2.1), HEAD (§6.2.2), BODY (§6.2.3), STAT (§6.2.4).
 * The octets come from the store as they were stored, dot-stuffed on the way out.
 */
import { Readable } from 'node:stream';
import type { CommandHandler } from '../commands.js';
import { NntpError, syntaxError } from '../replies.js';
import type { NntpSession } from '../session.js';
import { resolveArticle, type ResolvedArticle } from './resolve.js';

type Part = 'article' | 'head' | 'body' | 'stat';

const CODES: Record<Part, { code: number; text: string }> = {
  article: { code: 220, text: 'Article follows' },
  head: { code: 221, text: 'Headers follow' },
  body: { code: 222, text: 'Body follows' },
  stat: { code: 223, text: 'Article exists' },
};

const gone = () => new NntpError(430, 'No article with that message-id');

/** The header block without the empty line that ends it (RFC 3977 §6.2.2.2). */
async function headerBlock(s: NntpSession, article: ResolvedArticle): Promise<Buffer> {
  const index = await s.news.getIndex(article.messageId);
  if (!index) throw gone();
  const chunks: Buffer[] = [];
  for await (const chunk of await s.news.openArticle(article.messageId, {
    start: 0,
    end: index.root.bodyStart,
  })) {
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
  }
  let head = Buffer.concat(chunks);
  while (head.length >= 4 && head.subarray(head.length - 4).toString('latin1') === '\r\n\r\n') {
    head = head.subarray(0, head.length - 2);
  }
  if (head.length >= 2 && head.subarray(head.length - 2).toString('latin1') !== '\r\n') {
    head = Buffer.concat([head, Buffer.from('\r\n')]);
  }
  return head;
}

async function body(s: NntpSession, article: ResolvedArticle): Promise<Readable> {
  const index = await s.news.getIndex(article.messageId);
  if (!index) throw gone();
  if (index.root.bodyStart >= index.size) return Readable.from([]);
  return s.news.openArticle(article.messageId, { start: index.root.bodyStart, end: index.size });
}

function retrieval(part: Part): CommandHandler {
  return async (s, args) => {
    if (args.length > 1) throw syntaxError();
    const article = await resolveArticle(s, args[0]);
    const { code, text } = CODES[part];
    const status = `${article.number} ${article.messageId} ${text}`;
    switch (part) {
      case 'stat':
        await s.reply(code, status);
        return;
      case 'head':
        await s.replyStream(code, status, Readable.from([await headerBlock(s, article)]));
        return;
      case 'body':
        await s.replyStream(code, status, await body(s, article));
        return;
      case 'article':
        await s.replyStream(code, status, await s.news.openArticle(article.messageId));
        return;
    }
  };
}

export const articleCommand = retrieval('article');
export const headCommand = retrieval('head');
export const bodyCommand = retrieval('body');
export const statCommand = retrieval('stat');
