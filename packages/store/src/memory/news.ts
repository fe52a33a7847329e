/** Newsgroups held in memory: an article stored once, numbered in each group it was posted to. */
import type { Readable } from 'node:stream';
import { ChangeFeed, bytesStream, readSource, validateGroup, validateMessageId } from '../common/index.js';
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

interface Group {
  name: string;
  description: string;
  posting: PostingStatus;
  createdAt: Date;
  mailAddress: string | null;
  subscribers: string[];
  nextNumber: number;
  articles: Map<number, { messageId: string; postedAt: Date; size: number; overview: Overview }>;
  feed: ChangeFeed<NewsChange>;
}

interface Article {
  bytes: Buffer;
  index: MessageIndex;
  refs: ArticleRef[];
}

const naming = { validateGroup, validateMessageId };
const indexer = indexMessage;

export class MemoryNewsStore implements NewsStore {
  private readonly groups = new Map<string, Group>();
  private readonly articles = new Map<string, Article>();
  /** Message-IDs being posted right now: a second post of one is a DUPLICATE at once. */
  private readonly posting = new Set<string>();

  close(): void {
    for (const g of this.groups.values()) g.feed.clear();
  }

  private info(g: Group): GroupInfo {
    const count = g.articles.size;
    // Numbers only grow and articles are never removed from a group, so the Map's first key
    // is the lowest and nextNumber - 1 the highest. RFC 3977 §6.1.1.2: an empty group
    // reports high = low - 1.
    const low = count ? g.articles.keys().next().value! : g.nextNumber;
    const high = g.nextNumber - 1;
    return {
      name: g.name,
      description: g.description,
      posting: g.posting,
      low,
      high,
      count,
      createdAt: g.createdAt,
      mailAddress: g.mailAddress,
    };
  }

  private group(name: string): Group {
    const g = this.groups.get(name);
    if (!g) throw new StoreError('NOT_FOUND', 'no such group');
    return g;
  }

  async createGroup(
    name: string,
    options?: { description?: string; posting?: PostingStatus; mailAddress?: string | null },
  ): Promise<GroupInfo> {
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
      feed: new ChangeFeed(),
    };
    this.groups.set(name, g);
    return this.info(g);
  }

  async updateGroup(
    name: string,
    changes: { description?: string; posting?: PostingStatus; mailAddress?: string | null },
  ): Promise<GroupInfo> {
    const g = this.group(name);
    if (changes.description !== undefined) g.description = changes.description;
    if (changes.posting !== undefined) g.posting = changes.posting;
    if (changes.mailAddress !== undefined) g.mailAddress = changes.mailAddress;
    return this.info(g);
  }

  async deleteGroup(name: string): Promise<boolean> {
    const g = this.groups.get(name);
    if (!g) return false;
    this.groups.delete(name);
    g.feed.clear();
    // Articles keep their other groups; the Message-ID stays known (history), so a re-post
    // of a deleted group's article is still a DUPLICATE, as RFC 3977 §3.6 history asks.
    for (const a of g.articles.values()) {
      const art = this.articles.get(a.messageId);
      if (art) art.refs = art.refs.filter((r) => r.group !== name);
    }
    return true;
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
    if (this.articles.has(messageId) || this.posting.has(messageId))
      throw new StoreError('DUPLICATE', 'Message-ID already known');
    this.posting.add(messageId);
    let bytes: Buffer;
    let index: MessageIndex;
    try {
      bytes = await readSource(article);
      index = await indexer(bytes);
    } finally {
      this.posting.delete(messageId);
    }
    // Groups looked up again: one may have been deleted while the article was read.
    targets.splice(0, targets.length, ...names.map((n) => this.group(n)));
    const postedAt = new Date();
    const overview = { ...index.overview, messageId: index.overview.messageId || messageId };
    const refs = targets.map((g) => {
      const number = g.nextNumber++;
      g.articles.set(number, { messageId, postedAt, size: bytes.length, overview });
      return { group: g.name, number, messageId, size: bytes.length, postedAt };
    });
    this.articles.set(messageId, { bytes, index, refs });
    targets.forEach((g, i) => g.feed.publish({ kind: 'new', number: refs[i]!.number, messageId }));
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
    const g = this.group(group);
    const lo = Math.max(low, 1);
    const hi = Math.min(high, g.nextNumber - 1);
    const out: number[] = [];
    if (hi < lo) return out;
    // Walk whichever is shorter: the asked range, or the group's articles (in number order).
    if (hi - lo < g.articles.size) {
      for (let n = lo; n <= hi; n++) if (g.articles.has(n)) out.push(n);
    } else {
      for (const n of g.articles.keys()) if (n >= lo && n <= hi) out.push(n);
    }
    return out;
  }

  async overview(
    group: string,
    low: number,
    high: number,
  ): Promise<Array<{ number: number; overview: Overview }>> {
    const g = this.group(group);
    return (await this.numbers(group, low, high)).map((number) => ({
      number,
      overview: g.articles.get(number)!.overview,
    }));
  }

  async getIndex(messageId: string): Promise<MessageIndex | undefined> {
    return this.articles.get(messageId)?.index;
  }

  async openArticle(messageId: string, range?: { start: number; end: number }): Promise<Readable> {
    const a = this.articles.get(messageId);
    if (!a) throw new StoreError('NOT_FOUND', 'no such article');
    return bytesStream(a.bytes, range);
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
    return this.group(group).feed.subscribe(listener);
  }
}
