/** Newsgroups held in memory: an article stored once, numbered in each group it was posted to. */
import { EventEmitter } from 'node:events';
import { Readable } from 'node:stream';
import { fsDeps } from '../fs/deps.js';
import { StoreError } from '../types.js';
import type { ArticleRef, GroupInfo, MessageIndex, MessageSource, NewsChange, NewsStore, Overview, PostingStatus, Unsubscribe } from '../types.js';
import { readSource } from './source.js';

interface Group {
  name: string;
  description: string;
  posting: PostingStatus;
  createdAt: Date;
  mailAddress: string | null;
  subscribers: string[];
  nextNumber: number;
  articles: Map<number, { messageId: string; postedAt: Date; size: number; overview: Overview }>;
  feed: EventEmitter;
}

interface Article {
  bytes: Buffer;
  index: MessageIndex;
  refs: ArticleRef[];
}

const { naming, indexer } = fsDeps;

export class MemoryNewsStore implements NewsStore {
  private readonly groups = new Map<string, Group>();
  private readonly articles = new Map<string, Article>();

  private info(g: Group): GroupInfo {
    const numbers = [...g.articles.keys()];
    const count = numbers.length;
    // RFC 3977 §6.1.1.2: an empty group reports high = low - 1.
    const low = count ? Math.min(...numbers) : g.nextNumber;
    const high = count ? Math.max(...numbers) : g.nextNumber - 1;
    return { name: g.name, description: g.description, posting: g.posting, low, high, count, createdAt: g.createdAt, mailAddress: g.mailAddress };
  }

  private group(name: string): Group {
    const g = this.groups.get(name);
    if (!g) throw new StoreError('NOT_FOUND', 'no such group');
    return g;
  }

  async createGroup(name: string, options?: { description?: string; posting?: PostingStatus; mailAddress?: string | null }): Promise<GroupInfo> {
    naming.validateGroup(name);
    if (this.groups.has(name)) throw new StoreError('EXISTS', 'group exists');
    const g: Group = {
      name,
      description: options?.description ?? '',
      posting: options?.posting ?? 'y',
      createdAt: new Date(),
      mailAddress: options?.mailAddress ?? null,
      subscribers: [],
      nextNumber: 1,
      articles: new Map(),
      feed: new EventEmitter().setMaxListeners(0),
    };
    this.groups.set(name, g);
    return this.info(g);
  }

  async updateGroup(name: string, changes: { description?: string; posting?: PostingStatus; mailAddress?: string | null }): Promise<GroupInfo> {
    const g = this.group(name);
    if (changes.description !== undefined) g.description = changes.description;
    if (changes.posting !== undefined) g.posting = changes.posting;
    if (changes.mailAddress !== undefined) g.mailAddress = changes.mailAddress;
    return this.info(g);
  }

  async deleteGroup(name: string): Promise<boolean> {
    return this.groups.delete(name);
  }

  async listGroups(): Promise<GroupInfo[]> {
    return [...this.groups.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((g) => this.info(g));
  }

  async getGroup(name: string): Promise<GroupInfo | undefined> {
    const g = this.groups.get(name);
    return g && this.info(g);
  }

  async groupByMailAddress(address: string): Promise<GroupInfo | undefined> {
    const a = address.toLowerCase();
    const g = [...this.groups.values()].find((x) => x.mailAddress?.toLowerCase() === a);
    return g && this.info(g);
  }

  async post(groups: string[], messageId: string, article: MessageSource): Promise<ArticleRef[]> {
    naming.validateMessageId(messageId);
    const names = [...new Set(groups)].sort();
    if (names.length === 0) throw new StoreError('NOT_FOUND', 'no groups');
    const targets = names.map((n) => this.group(n));
    if (this.articles.has(messageId)) throw new StoreError('DUPLICATE', 'Message-ID already known');
    const bytes = await readSource(article);
    // Checked again after the await: another post of the same id may have landed meanwhile.
    if (this.articles.has(messageId)) throw new StoreError('DUPLICATE', 'Message-ID already known');
    const index = await indexer(bytes);
    const postedAt = new Date();
    const overview = { ...index.overview, messageId: index.overview.messageId || messageId };
    const refs = targets.map((g) => {
      const number = g.nextNumber++;
      g.articles.set(number, { messageId, postedAt, size: bytes.length, overview });
      return { group: g.name, number, messageId, size: bytes.length, postedAt };
    });
    this.articles.set(messageId, { bytes, index, refs });
    for (const r of refs) this.groups.get(r.group)!.feed.emit('change', { kind: 'new', number: r.number, messageId } satisfies NewsChange);
    return refs;
  }

  async hasMessageId(messageId: string): Promise<boolean> {
    return this.articles.has(messageId);
  }

  async articleByNumber(group: string, number: number): Promise<ArticleRef | undefined> {
    const a = this.groups.get(group)?.articles.get(number);
    return a && { group, number, messageId: a.messageId, size: a.size, postedAt: a.postedAt };
  }

  async articleById(messageId: string): Promise<ArticleRef | undefined> {
    return this.articles.get(messageId)?.refs[0];
  }

  async numbers(group: string, low: number, high: number): Promise<number[]> {
    return [...this.group(group).articles.keys()].filter((n) => n >= low && n <= high).sort((a, b) => a - b);
  }

  async overview(group: string, low: number, high: number): Promise<Array<{ number: number; overview: Overview }>> {
    const g = this.group(group);
    return (await this.numbers(group, low, high)).map((number) => ({ number, overview: g.articles.get(number)!.overview }));
  }

  async getIndex(messageId: string): Promise<MessageIndex | undefined> {
    return this.articles.get(messageId)?.index;
  }

  async openArticle(messageId: string, range?: { start: number; end: number }): Promise<Readable> {
    const a = this.articles.get(messageId);
    if (!a) throw new StoreError('NOT_FOUND', 'no such article');
    return Readable.from([range ? a.bytes.subarray(Math.max(0, range.start), Math.min(a.bytes.length, range.end)) : a.bytes]);
  }

  async articlesSince(since: Date, match?: (group: string) => boolean): Promise<string[]> {
    const seen = new Set<string>();
    for (const g of this.groups.values()) {
      if (match && !match(g.name)) continue;
      for (const a of g.articles.values()) if (a.postedAt >= since) seen.add(a.messageId);
    }
    return [...seen];
  }

  async addSubscriber(group: string, address: string): Promise<void> {
    const g = this.group(group);
    const a = address.toLowerCase();
    if (!g.subscribers.includes(a)) g.subscribers.push(a);
  }

  async removeSubscriber(group: string, address: string): Promise<boolean> {
    const g = this.group(group);
    const i = g.subscribers.indexOf(address.toLowerCase());
    if (i < 0) return false;
    g.subscribers.splice(i, 1);
    return true;
  }

  async listSubscribers(group: string): Promise<string[]> {
    return [...this.group(group).subscribers];
  }

  watch(group: string, listener: (change: NewsChange) => void): Unsubscribe {
    const feed = this.group(group).feed;
    feed.on('change', listener);
    return () => feed.off('change', listener);
  }
}
