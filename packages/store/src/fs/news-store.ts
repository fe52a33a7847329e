/**
 * The fs NewsStore. Groups are listed in news/groups.json; each group has an index log of
 * its articles under news/groups/<id>. An article is stored once under the hash of its
 * Message-ID, and a claim file created with O_EXCL next to it makes "this Message-ID is
 * known" atomic across processes. The group logs are the truth about what was posted: a
 * claim left by a poster that died before logging anything is taken over.
 */
import { promises as fsp, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
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
import { StoreError } from '../types.js';
import { ensureDir, fsyncDir, isErrno, readJson } from './fsutil.js';
import { readIndexFile } from './index-file.js';
import type { SpaceReserve } from './space-reserve.js';
import { watchLog } from './dir-watch.js';
import { GroupLog } from './group-log.js';
import { ingest, linkReplacing, type Indexer } from './ingest.js';
import { hashName, type Layout } from './layout.js';
import { JsonDoc } from './json-doc.js';
import { claimMessageId } from './news-claim.js';
import { openFileStream } from './read-stream.js';

interface GroupRecord {
  name: string;
  id: string;
  description: string;
  posting: PostingStatus;
  createdAt: number;
  mailAddress: string | null;
  subscribers: string[];
}

interface GroupsFile {
  nextId: number;
  groups: GroupRecord[];
}

interface Claim {
  messageId: string;
  groups: string[];
  pid: number;
}

export interface NewsNaming {
  validateGroup(name: string): void;
  validateMessageId(id: string): void;
}

const emptyGroups = (): GroupsFile => ({ nextId: 1, groups: [] });

export class FsNewsStore implements NewsStore {
  private readonly doc: JsonDoc<GroupsFile>;
  private readonly logs = new Map<string, GroupLog>();
  private readonly feeds = new Map<string, Set<(c: NewsChange) => void>>();
  private readonly watchers = new Map<string, FSWatcher>();

  constructor(
    private readonly layout: Layout,
    private readonly indexer: Indexer,
    private readonly naming: NewsNaming,
    private readonly space: SpaceReserve,
  ) {
    this.doc = new JsonDoc(join(layout.newsDir, 'groups.json'));
  }

  private get articlesDir(): string {
    return join(this.layout.newsDir, 'articles');
  }
  private articlePath(messageId: string, ext: 'eml' | 'json' | 'claim'): string {
    return join(this.articlesDir, `${hashName(messageId)}.${ext}`);
  }

  private updateGroups<R>(
    fn: (d: GroupsFile) => Promise<{ changed: boolean; value: R }> | { changed: boolean; value: R },
  ): Promise<R> {
    return this.doc.update(fn, emptyGroups);
  }

  private async record(name: string): Promise<GroupRecord | undefined> {
    return ((await this.doc.read()) ?? emptyGroups()).groups.find((g) => g.name === name);
  }

  private async log(rec: GroupRecord): Promise<GroupLog> {
    const dir = join(this.layout.newsDir, 'groups', rec.id);
    let log = this.logs.get(dir);
    if (!log) {
      log = new GroupLog(dir);
      log.watch((c) => this.feeds.get(rec.name)?.forEach((l) => l(c)));
      this.logs.set(dir, log);
    }
    await log.refresh();
    return log;
  }

  private async info(rec: GroupRecord): Promise<GroupInfo> {
    const log = await this.log(rec);
    const numbers = [...log.articles.keys()];
    const high = log.nextNumber - 1;
    return {
      name: rec.name,
      description: rec.description,
      posting: rec.posting,
      low: numbers.length ? Math.min(...numbers) : high + 1,
      high,
      count: numbers.length,
      createdAt: new Date(rec.createdAt),
      mailAddress: rec.mailAddress,
    };
  }

  async createGroup(
    name: string,
    options?: { description?: string; posting?: PostingStatus; mailAddress?: string | null },
  ): Promise<GroupInfo> {
    this.naming.validateGroup(name);
    await ensureDir(join(this.layout.newsDir, 'groups'));
    const rec = await this.updateGroups(async (d) => {
      if (d.groups.some((g) => g.name === name)) throw new StoreError('EXISTS', 'group exists');
      const r: GroupRecord = {
        name,
        id: String(d.nextId++),
        description: options?.description ?? '',
        posting: options?.posting ?? 'y',
        createdAt: Date.now(),
        mailAddress: options?.mailAddress ?? null,
        subscribers: [],
      };
      await GroupLog.create(join(this.layout.newsDir, 'groups', r.id));
      d.groups.push(r);
      return { changed: true, value: r };
    });
    return this.info(rec);
  }

  async updateGroup(
    name: string,
    changes: { description?: string; posting?: PostingStatus; mailAddress?: string | null },
  ): Promise<GroupInfo> {
    const rec = await this.updateGroups((d) => {
      const r = d.groups.find((g) => g.name === name);
      if (!r) throw new StoreError('NOT_FOUND', 'no such group');
      if (changes.description !== undefined) r.description = changes.description;
      if (changes.posting !== undefined) r.posting = changes.posting;
      if (changes.mailAddress !== undefined) r.mailAddress = changes.mailAddress;
      return { changed: true, value: r };
    });
    return this.info(rec);
  }

  async deleteGroup(name: string): Promise<boolean> {
    const rec = await this.updateGroups((d) => {
      const i = d.groups.findIndex((g) => g.name === name);
      if (i < 0) return { changed: false, value: undefined };
      return { changed: true, value: d.groups.splice(i, 1)[0] };
    });
    if (!rec) return false;
    const dir = join(this.layout.newsDir, 'groups', rec.id);
    this.logs.delete(dir);
    await fsp.rm(dir, { recursive: true, force: true });
    return true;
  }

  async listGroups(): Promise<GroupInfo[]> {
    const out: GroupInfo[] = [];
    for (const rec of ((await this.doc.read()) ?? emptyGroups()).groups) out.push(await this.info(rec));
    return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  async getGroup(name: string): Promise<GroupInfo | undefined> {
    const rec = await this.record(name);
    return rec && this.info(rec);
  }

  async groupByMailAddress(address: string): Promise<GroupInfo | undefined> {
    const a = address.toLowerCase();
    const rec = ((await this.doc.read()) ?? emptyGroups()).groups.find(
      (g) => g.mailAddress?.toLowerCase() === a,
    );
    return rec && this.info(rec);
  }

  post(groups: string[], messageId: string, article: MessageSource): Promise<ArticleRef[]> {
    return this.space.taking(() => this.postNow(groups, messageId, article));
  }

  private async postNow(groups: string[], messageId: string, article: MessageSource): Promise<ArticleRef[]> {
    this.naming.validateMessageId(messageId);
    const names = [...new Set(groups)].sort();
    if (names.length === 0) throw new StoreError('NOT_FOUND', 'no groups');
    const recs: GroupRecord[] = [];
    for (const n of names) {
      const r = await this.record(n);
      if (!r) throw new StoreError('NOT_FOUND', `no such group: ${n}`);
      recs.push(r);
    }
    await ensureDir(this.articlesDir);
    await ensureDir(this.layout.tmp);
    const claim: Claim = { messageId, groups: names, pid: process.pid };
    const claimLock = await claimMessageId(
      this.articlePath(messageId, 'claim'),
      JSON.stringify(claim),
      async () => (await this.refs(messageId)).length > 0,
    );
    try {
      const spooled = await ingest(this.layout.tmp, article, this.indexer);
      try {
        await linkReplacing(spooled.idxPath, this.articlePath(messageId, 'json'));
        await linkReplacing(spooled.emlPath, this.articlePath(messageId, 'eml'));
        await fsyncDir(this.articlesDir);
        const postedAt = Date.now();
        const refs: ArticleRef[] = [];
        for (const rec of recs) {
          const log = await this.log(rec);
          const lock = await log.lockForWrite();
          try {
            const number = log.nextNumber;
            await log.append([
              GroupLog.record({
                number,
                messageId,
                postedAt,
                size: spooled.size,
                overview: overviewOf(spooled.index.overview, messageId),
              }),
            ]);
            refs.push({
              group: rec.name,
              number,
              messageId,
              size: spooled.size,
              postedAt: new Date(postedAt),
            });
          } finally {
            await lock.release();
          }
        }
        return refs;
      } finally {
        await spooled.discard();
      }
    } finally {
      await claimLock.release();
    }
  }

  /** Where a Message-ID is filed, per the group logs (the claim only says where to look). */
  private async refs(messageId: string): Promise<ArticleRef[]> {
    let claim: Claim | undefined;
    try {
      claim = await readJson<Claim>(this.articlePath(messageId, 'claim'));
    } catch {
      return [];
    }
    if (!claim) return [];
    const out: ArticleRef[] = [];
    for (const name of claim.groups) {
      const rec = await this.record(name);
      if (!rec) continue;
      const log = await this.log(rec);
      const n = log.byId.get(messageId);
      const a = n === undefined ? undefined : log.articles.get(n);
      if (a)
        out.push({ group: name, number: a.number, messageId, size: a.size, postedAt: new Date(a.postedAt) });
    }
    return out;
  }

  async hasMessageId(messageId: string): Promise<boolean> {
    return (await this.refs(messageId)).length > 0;
  }

  async articleByNumber(group: string, number: number): Promise<ArticleRef | undefined> {
    const rec = await this.record(group);
    if (!rec) return undefined;
    const a = (await this.log(rec)).articles.get(number);
    return a && { group, number, messageId: a.messageId, size: a.size, postedAt: new Date(a.postedAt) };
  }

  async articleById(messageId: string): Promise<ArticleRef | undefined> {
    return (await this.refs(messageId))[0];
  }

  async numbers(group: string, low: number, high: number): Promise<number[]> {
    const rec = await this.record(group);
    if (!rec) throw new StoreError('NOT_FOUND', 'no such group');
    return [...(await this.log(rec)).articles.keys()].filter((n) => n >= low && n <= high);
  }

  async overview(
    group: string,
    low: number,
    high: number,
  ): Promise<Array<{ number: number; overview: Overview }>> {
    const rec = await this.record(group);
    if (!rec) throw new StoreError('NOT_FOUND', 'no such group');
    const out: Array<{ number: number; overview: Overview }> = [];
    for (const a of (await this.log(rec)).articles.values())
      if (a.number >= low && a.number <= high) out.push({ number: a.number, overview: a.overview });
    return out;
  }

  async getIndex(messageId: string): Promise<MessageIndex | undefined> {
    if ((await this.refs(messageId)).length === 0) return undefined;
    try {
      return await readIndexFile(this.articlePath(messageId, 'json'));
    } catch (err) {
      if (isErrno(err, 'ENOENT')) return undefined;
      throw err;
    }
  }

  async openArticle(messageId: string, range?: { start: number; end: number }): Promise<Readable> {
    if ((await this.refs(messageId)).length === 0) throw new StoreError('NOT_FOUND', 'no such article');
    return openFileStream(this.articlePath(messageId, 'eml'), range);
  }

  async articlesSince(since: Date, match?: (group: string) => boolean): Promise<string[]> {
    const seen = new Set<string>();
    for (const rec of ((await this.doc.read()) ?? emptyGroups()).groups) {
      if (match && !match(rec.name)) continue;
      for (const a of (await this.log(rec)).articles.values())
        if (a.postedAt >= since.getTime()) seen.add(a.messageId);
    }
    return [...seen];
  }

  async addSubscriber(group: string, address: string): Promise<void> {
    await this.updateGroups((d) => {
      const r = d.groups.find((g) => g.name === group);
      if (!r) throw new StoreError('NOT_FOUND', 'no such group');
      const a = address.toLowerCase();
      if (r.subscribers.includes(a)) return { changed: false, value: undefined };
      r.subscribers.push(a);
      return { changed: true, value: undefined };
    });
  }

  async removeSubscriber(group: string, address: string): Promise<boolean> {
    return this.updateGroups((d) => {
      const r = d.groups.find((g) => g.name === group);
      const i = r ? r.subscribers.indexOf(address.toLowerCase()) : -1;
      if (!r || i < 0) return { changed: false, value: false };
      r.subscribers.splice(i, 1);
      return { changed: true, value: true };
    });
  }

  async listSubscribers(group: string): Promise<string[]> {
    const rec = await this.record(group);
    if (!rec) throw new StoreError('NOT_FOUND', 'no such group');
    return [...rec.subscribers].sort();
  }

  watch(group: string, listener: (change: NewsChange) => void): Unsubscribe {
    let set = this.feeds.get(group);
    if (!set) {
      this.feeds.set(group, (set = new Set()));
      void this.watchFiles(group);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.feeds.get(group) === set) {
        this.feeds.delete(group);
        this.watchers.get(group)?.close();
        this.watchers.delete(group);
      }
    };
  }

  /** Other processes' posts reach this handle's watchers through a watch on the group's log. */
  private async watchFiles(group: string): Promise<void> {
    const rec = await this.record(group).catch(() => undefined);
    if (!rec) return;
    const log = await this.log(rec).catch(() => undefined);
    if (!log || !this.feeds.has(group) || this.watchers.has(group)) return;
    const w = watchLog(log.dir, () => log.refresh());
    if (w) this.watchers.set(group, w);
  }

  close(): void {
    for (const w of this.watchers.values()) w.close();
    this.watchers.clear();
    this.feeds.clear();
  }
}

/** The overview as filed: the Message-ID as posted wins over a header that disagrees. */
function overviewOf(o: Overview, messageId: string): Overview {
  return { ...o, messageId: o.messageId || messageId };
}
