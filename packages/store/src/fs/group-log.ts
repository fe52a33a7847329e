/**
 * One newsgroup's index log: article numbers with their Message-ID, posting time, size and
 * overview (so OVER never opens an article). Numbers are never reused: the header's uidNext
 * is the next article number.
 */
import type { NewsChange, Overview } from '../types.js';
import { AppendLog, freshHeader } from './append-log.js';
import { ensureDir } from './fsutil.js';
import { type MailRecord, RecordType } from './log-codec.js';

export interface ArticleEntry {
  number: number;
  messageId: string;
  postedAt: number;
  size: number;
  overview: Overview;
}

interface ArticleFrame {
  n: number;
  m: string;
  t: number;
  s: number;
  o: Overview;
}

export class GroupLog extends AppendLog<NewsChange> {
  articles = new Map<number, ArticleEntry>();
  byId = new Map<string, number>();

  static async create(dir: string): Promise<void> {
    await ensureDir(dir);
    await AppendLog.createFile(dir, freshHeader(0));
  }

  get nextNumber(): number {
    return this.header.uidNext;
  }

  static record(a: ArticleEntry): MailRecord {
    const value: ArticleFrame = { n: a.number, m: a.messageId, t: a.postedAt, s: a.size, o: a.overview };
    return { type: RecordType.Json, value };
  }

  protected reset(): void {
    this.articles = new Map();
    this.byId = new Map();
  }

  protected apply(r: MailRecord, changes: NewsChange[] | undefined): void {
    if (r.type !== RecordType.Json) return;
    const f = r.value as ArticleFrame;
    this.articles.set(f.n, { number: f.n, messageId: f.m, postedAt: f.t, size: f.s, overview: f.o });
    this.byId.set(f.m, f.n);
    if (f.n >= this.header.uidNext) this.header.uidNext = f.n + 1;
    changes?.push({ kind: 'new', number: f.n, messageId: f.m });
  }

  protected snapshot(): unknown {
    return new Set(this.articles.keys());
  }

  protected diff(before: unknown): NewsChange[] {
    const old = before as Set<number>;
    return [...this.articles.values()]
      .filter((a) => !old.has(a.number))
      .map((a) => ({ kind: 'new', number: a.number, messageId: a.messageId }));
  }

  protected liveRecords(): MailRecord[] {
    return [...this.articles.values()].map((a) => GroupLog.record(a));
  }
}
