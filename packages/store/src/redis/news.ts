/**
 * Newsgroups on Redis: an article stored once under the hash of its Message-ID and numbered
 * in each group it was posted to, in one script (lua-news.ts). A Message-ID is claimed
 * (SET NX with an expiry) before the article is read, so of two concurrent posts of one ID,
 * from any processes, exactly one wins, and a poster that dies frees its claim by expiry.
 */
import type { Readable } from 'node:stream';
import { readSource, validateGroup, validateMessageId } from '../common/index.js';
import { indexMessage } from '../indexer/index.js';
import { StoreError } from '../types.js';
import type {
  ArticleRef,
  GroupInfo,
  MessageIndex,
  MessageSource,
  NewsChange,
  NewsStore,
  Overview,
  PostingStatus,
  Unsubscribe,
} from '../types.js';
import { bodyStream } from './body-stream.js';
import { guarded, type LuaScript } from './connection.js';
import type { RedisContext } from './context.js';
import * as L from './lua-news.js';

/** How long a Message-ID stays claimed by a post that never commits (its process died). */
const CLAIM_TTL_MS = 10 * 60_000;

interface StoredOverview {
  m: string;
  p: number;
  s: number;
  k: string;
  o: Overview;
}

function toGroup(row: unknown): GroupInfo {
  const [name, description, posting, created, mail, next, count, low] = row as string[];
  return {
    name: name!,
    description: description!,
    posting: posting as PostingStatus,
    // RFC 3977 §6.1.1.2: an empty group reports high = low - 1.
    low: Number(low),
    high: Number(next) - 1,
    count: Number(count),
    createdAt: new Date(Number(created)),
    mailAddress: mail || null,
  };
}

export class RedisNewsStore implements NewsStore {
  constructor(private readonly ctx: RedisContext) {}

  private run(script: LuaScript, args: Array<string | number | Buffer>): Promise<unknown> {
    const n = this.ctx.keys.news;
    return script.run(this.ctx.redis, [`${n}names`], [n, this.ctx.keys.feedChannel, ...args]);
  }

  private g(name: string): string {
    return this.ctx.keys.group(name);
  }

  async createGroup(
    name: string,
    options?: { description?: string; posting?: PostingStatus; mailAddress?: string | null },
  ): Promise<GroupInfo> {
    validateGroup(name);
    const row = await this.run(L.CREATE_GROUP, [
      this.g(name),
      name,
      options?.description ?? '',
      options?.posting ?? 'y',
      String(Date.now()),
      options?.mailAddress ?? '',
    ]);
    return toGroup(row);
  }

  async updateGroup(
    name: string,
    changes: { description?: string; posting?: PostingStatus; mailAddress?: string | null },
  ): Promise<GroupInfo> {
    const fields: string[] = [];
    if (changes.description !== undefined) fields.push('description', changes.description);
    if (changes.posting !== undefined) fields.push('posting', changes.posting);
    if (changes.mailAddress !== undefined) fields.push('mail', changes.mailAddress ?? '');
    return toGroup(await this.run(L.UPDATE_GROUP, [this.g(name), ...fields]));
  }

  async deleteGroup(name: string): Promise<boolean> {
    return (await this.run(L.DELETE_GROUP, [this.g(name), name])) === 1;
  }

  async listGroups(): Promise<GroupInfo[]> {
    const names = (await guarded(() => this.ctx.redis.smembers(`${this.ctx.keys.news}names`))).sort();
    if (names.length === 0) return [];
    const rows = (await this.run(
      L.GROUP_INFO,
      names.map((n) => this.g(n)),
    )) as unknown[];
    return rows.filter((r) => r !== null).map(toGroup);
  }

  async getGroup(name: string): Promise<GroupInfo | undefined> {
    const [row] = (await this.run(L.GROUP_INFO, [this.g(name)])) as unknown[];
    return row ? toGroup(row) : undefined;
  }

  async groupByMailAddress(address: string): Promise<GroupInfo | undefined> {
    const a = address.toLowerCase();
    return (await this.listGroups()).find((g) => g.mailAddress?.toLowerCase() === a);
  }

  async post(groups: string[], messageId: string, article: MessageSource): Promise<ArticleRef[]> {
    validateMessageId(messageId);
    const names = [...new Set(groups)].sort();
    if (names.length === 0) throw new StoreError('NOT_FOUND', 'no groups');
    const k = this.ctx.keys.article(messageId);
    await this.run(L.CLAIM, [k, String(CLAIM_TTL_MS), ...names.map((n) => this.g(n))]);
    try {
      const bytes = await readSource(article);
      const index = await indexMessage(bytes);
      const postedAt = new Date();
      const overview = { ...index.overview, messageId: index.overview.messageId || messageId };
      const numbers = (await this.run(L.COMMIT, [
        k,
        messageId,
        bytes,
        JSON.stringify(index),
        String(bytes.length),
        String(postedAt.getTime()),
        JSON.stringify(overview),
        ...names.flatMap((n) => [this.g(n), n]),
      ])) as number[];
      return names.map((group, i) => ({
        group,
        number: numbers[i]!,
        messageId,
        size: bytes.length,
        postedAt,
      }));
    } catch (err) {
      await this.run(L.UNCLAIM, [k]).catch(() => undefined);
      throw err;
    }
  }

  async hasMessageId(messageId: string): Promise<boolean> {
    const k = this.ctx.keys.article(messageId);
    return (await guarded(() => this.ctx.redis.exists(`${this.ctx.keys.news}art:${k}`))) === 1;
  }

  async articleByNumber(group: string, number: number): Promise<ArticleRef | undefined> {
    const json = await guarded(() =>
      this.ctx.redis.hget(`${this.ctx.keys.news}ov:${this.g(group)}`, String(number)),
    );
    if (!json) return undefined;
    const ov = JSON.parse(json) as StoredOverview;
    return { group, number, messageId: ov.m, size: ov.s, postedAt: new Date(ov.p) };
  }

  async articleById(messageId: string): Promise<ArticleRef | undefined> {
    const row = (await this.run(L.ARTICLE, [this.ctx.keys.article(messageId)])) as string[] | null;
    if (!row) return undefined;
    const [id, size, posted, ...refs] = row;
    const pairs: Array<[string, number]> = [];
    for (let i = 0; i < refs.length; i += 2) pairs.push([refs[i]!, Number(refs[i + 1])]);
    // The first group by name, as the other backends answer.
    pairs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    const first = pairs[0];
    if (!first) return undefined;
    return {
      group: first[0],
      number: first[1],
      messageId: id!,
      size: Number(size),
      postedAt: new Date(Number(posted)),
    };
  }

  async numbers(group: string, low: number, high: number): Promise<number[]> {
    const out = (await this.run(L.RANGE, [
      this.g(group),
      String(Math.max(low, 1)),
      String(high),
      '0',
    ])) as string[];
    return out.map(Number);
  }

  async overview(
    group: string,
    low: number,
    high: number,
  ): Promise<Array<{ number: number; overview: Overview }>> {
    const out = (await this.run(L.RANGE, [
      this.g(group),
      String(Math.max(low, 1)),
      String(high),
      '1',
    ])) as string[];
    const rows: Array<{ number: number; overview: Overview }> = [];
    for (let i = 0; i < out.length; i += 2)
      rows.push({ number: Number(out[i]), overview: (JSON.parse(out[i + 1]!) as StoredOverview).o });
    return rows;
  }

  async getIndex(messageId: string): Promise<MessageIndex | undefined> {
    const k = this.ctx.keys.article(messageId);
    const json = await guarded(() => this.ctx.redis.hget(`${this.ctx.keys.news}art:${k}`, 'index'));
    return json ? (JSON.parse(json) as MessageIndex) : undefined;
  }

  async openArticle(messageId: string, range?: { start: number; end: number }): Promise<Readable> {
    const k = this.ctx.keys.article(messageId);
    const size = await guarded(() => this.ctx.redis.hget(`${this.ctx.keys.news}art:${k}`, 'size'));
    if (size === null) throw new StoreError('NOT_FOUND', 'no such article');
    return bodyStream(this.ctx.redis, `${this.ctx.keys.news}body:${k}`, Number(size), range);
  }

  async articlesSince(since: Date, match?: (group: string) => boolean): Promise<string[]> {
    const out = (await this.run(L.SINCE, [String(since.getTime())])) as string[];
    const ids: string[] = [];
    for (let i = 0; i < out.length; i += 2) {
      const groups = out[i + 1] ? out[i + 1]!.split(',') : [];
      if (groups.some((g) => !match || match(g))) ids.push(out[i]!);
    }
    return ids;
  }

  async addSubscriber(group: string, address: string): Promise<void> {
    await this.run(L.SUBSCRIBERS, [this.g(group), 'add', address.toLowerCase()]);
  }

  async removeSubscriber(group: string, address: string): Promise<boolean> {
    return (await this.run(L.SUBSCRIBERS, [this.g(group), 'remove', address.toLowerCase()])) === 1;
  }

  async listSubscribers(group: string): Promise<string[]> {
    return ((await this.run(L.SUBSCRIBERS, [this.g(group), 'list', ''])) as string[]).sort();
  }

  watch(group: string, listener: (change: NewsChange) => void): Unsubscribe {
    return this.ctx.feed.watchNews(group, listener);
  }
}
