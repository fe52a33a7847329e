/**
 * What POST and IHAVE do to an article before it is stored (RFC 5537 §3.5 injecting agent,
 * §3.3 relaying agent): check the mandatory header fields of RFC 5536 §3.1, supply Message-ID,
 * Date and Path where a poster left them out, and refuse what cannot be an article.
 */
import { randomUUID } from 'node:crypto';
import { isArticleMessageId, isNewsgroupName, rfc5322Date } from '../syntax.js';
import { ArticleFormatError, ParsedArticle } from './headers.js';

export class ArticleRejectedError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'ArticleRejectedError';
  }
}

export interface PrepareOptions {
  /** Our path identity (RFC 5537 §3.2): the server's hostname. */
  hostname: string;
  /** 'post': a reader's new article; 'ihave': a peer's article offered under `messageId`. */
  mode: 'post' | 'ihave';
  /** IHAVE's argument: the article must carry this Message-ID (or gets it). */
  messageId?: string;
  maxGroups: number;
  now?: Date;
}

export interface PreparedArticle {
  messageId: string;
  /** Newsgroups, in order, without duplicates. */
  groups: string[];
  /** The article as it will be stored. */
  data: Buffer;
  headers: ParsedArticle;
}

/** RFC 5536 §3: fields that MUST NOT occur more than once. */
const SINGLE = ['From', 'Subject', 'Newsgroups', 'Message-ID', 'Date', 'Path', 'References', 'Followup-To'];

export function newMessageId(hostname: string): string {
  return `<${randomUUID()}@${hostname.replace(/[^A-Za-z0-9.-]/g, '') || 'localhost'}>`;
}

/** RFC 5536 §3.1.4: comma-separated names; folding whitespace tolerated around the commas. */
export function parseNewsgroups(value: string, max: number): string[] {
  const groups: string[] = [];
  for (const part of value.split(',')) {
    const name = part.trim();
    if (name === '') continue;
    if (!isNewsgroupName(name)) throw new ArticleRejectedError(`invalid newsgroup name in Newsgroups`);
    if (!groups.includes(name)) groups.push(name);
  }
  if (groups.length === 0) throw new ArticleRejectedError('Newsgroups header is empty');
  if (groups.length > max) throw new ArticleRejectedError(`too many newsgroups (at most ${max})`);
  return groups;
}

/** True when `hostname` already appears as a path identity in the Path value (RFC 5537 §3.3). */
export function pathContains(path: string, hostname: string): boolean {
  const id = hostname.toLowerCase();
  return path
    .split(/[!\s]+/)
    .map((p) => p.toLowerCase())
    .includes(id);
}

export function prepareArticle(raw: Buffer, options: PrepareOptions): PreparedArticle {
  let headers: ParsedArticle;
  try {
    headers = ParsedArticle.parse(raw);
  } catch (err) {
    if (err instanceof ArticleFormatError) throw new ArticleRejectedError(err.message);
    throw err;
  }
  for (const name of SINGLE) {
    if (headers.count(name) > 1) throw new ArticleRejectedError(`more than one ${name} header`);
  }
  // RFC 5536 §3.1: From, Newsgroups and Subject are the poster's to give.
  for (const name of ['From', 'Newsgroups', 'Subject']) {
    if (!headers.get(name)) throw new ArticleRejectedError(`missing ${name} header`);
  }
  const groups = parseNewsgroups(headers.get('Newsgroups') ?? '', options.maxGroups);

  let messageId = headers.get('Message-ID');
  if (options.mode === 'ihave') {
    const offered = options.messageId ?? '';
    if (messageId !== undefined && messageId !== offered) {
      throw new ArticleRejectedError('Message-ID header does not match the one offered');
    }
    messageId = offered;
    if (!headers.has('Message-ID')) headers.set('Message-ID', messageId);
  } else if (messageId === undefined) {
    messageId = newMessageId(options.hostname);
    headers.set('Message-ID', messageId);
  }
  if (!isArticleMessageId(messageId)) throw new ArticleRejectedError('invalid Message-ID');

  if (!headers.get('Date')) headers.set('Date', rfc5322Date(options.now ?? new Date()));

  // RFC 5537 §3.3: a relaying agent refuses an article that already passed through it.
  const path = headers.get('Path');
  if (options.mode === 'ihave' && path !== undefined && pathContains(path, options.hostname)) {
    throw new ArticleRejectedError('article already passed through this server (Path)');
  }
  // RFC 5537 §3.2.1: each agent prepends its path identity; a new article starts with
  // "not-for-mail" as its tail entry.
  if (path) headers.set('Path', `${options.hostname}!${path}`);
  else headers.prepend('Path', `${options.hostname}!not-for-mail`);

  return { messageId, groups, data: headers.toBuffer(), headers };
}
