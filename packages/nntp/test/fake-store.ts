/**
 * A minimal in-memory Store for the NNTP tests, used until @postern/store's memory backend is
 * available: news, password checks and the queue; mail throws. Not a reference implementation.
 */
import { Readable } from 'node:stream';
import {
  StoreError,
  type Accounts,
  type ArticleRef,
  type GroupInfo,
  type MessageIndex,
  type MessageSource,
  type NewsChange,
  type NewsStore,
  type PostingStatus,
  type Queue,
  type QueueEnvelope,
  type Store,
} from '@postern/store';

async function bytes(source: MessageSource): Promise<Buffer> {
  if (typeof source === 'string') return Buffer.from(source);
  if (source instanceof Uint8Array) return Buffer.from(source);
  const chunks: Buffer[] = [];
  for await (const c of source) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

function index(data: Buffer): MessageIndex {
  const text = data.toString('latin1');
  const sep = text.indexOf('\r\n\r\n');
  const bodyStart = sep === -1 ? data.length : sep + 4;
  const headerText = sep === -1 ? text : text.slice(0, sep);
  const headers: Array<[string, string]> = [];
  for (const line of headerText.split('\r\n')) {
    if (/^[ \t]/.test(line) && headers.length) headers[headers.length - 1][1] += line;
    else if (line.includes(':'))
      headers.push([line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trim()]);
  }
  const get = (n: string) => (headers.find(([k]) => k.toLowerCase() === n)?.[1] ?? '').replace(/\t/g, ' ');
  const body = text.slice(bodyStart);
  const root = {
    path: '',
    type: 'text',
    subtype: 'plain',
    params: {},
    id: null,
    description: null,
    encoding: '7BIT',
    disposition: null,
    language: null,
    location: null,
    md5: null,
    headerStart: 0,
    bodyStart,
    bodyEnd: data.length,
    lines: body === '' ? 0 : body.split('\r\n').length - (body.endsWith('\r\n') ? 1 : 0),
    parts: [],
  };
  return {
    size: data.length,
    envelope: {
      date: null,
      subject: null,
      from: null,
      sender: null,
      replyTo: null,
      to: null,
      cc: null,
      bcc: null,
      inReplyTo: null,
      messageId: null,
    },
    root,
    overview: {
      subject: get('subject'),
      from: get('from'),
      date: get('date'),
      messageId: get('message-id'),
      references: get('references'),
      bytes: data.length,
      lines: root.lines,
    },
    headers,
    text: '',
  };
}

interface Group {
  info: GroupInfo;
  articles: Map<number, string>;
  subscribers: string[];
  listeners: Set<(c: NewsChange) => void>;
}

export class FakeStore implements Store {
  readonly kind = 'memory' as const;
  readonly users = new Map<string, string>();
  readonly queued: Array<{ envelope: QueueEnvelope; data: Buffer }> = [];
  private readonly groups = new Map<string, Group>();
  private readonly articles = new Map<string, { data: Buffer; index: MessageIndex; refs: ArticleRef[] }>();

  readonly accounts = {
    verifyPassword: async (user: string, password: string) => this.users.get(user.toLowerCase()) === password,
    addUser: async (user: string, password: string) => void this.users.set(user.toLowerCase(), password),
  } as unknown as Accounts;

  readonly queue = {
    enqueue: async (envelope: QueueEnvelope, message: MessageSource) => {
      this.queued.push({ envelope, data: await bytes(message) });
      return `q${this.queued.length}`;
    },
    list: async () =>
      this.queued.map((q, i) => ({
        id: `q${i + 1}`,
        envelope: q.envelope,
        pending: [...q.envelope.to],
        attempts: 0,
        createdAt: new Date(),
        nextAttemptAt: new Date(),
        lastError: null,
        state: 'queued',
        size: q.data.length,
      })),
    openMessage: async (id: string) => Readable.from([this.queued[Number(id.slice(1)) - 1].data]),
  } as unknown as Queue;

  readonly mail = new Proxy(
    {},
    { get: () => () => Promise.reject(new Error('mail not in fake')) },
  ) as Store['mail'];

  private group(name: string): Group {
    const g = this.groups.get(name);
    if (!g) throw new StoreError('NOT_FOUND', name);
    return g;
  }

  readonly news: NewsStore = {
    createGroup: async (name, options = {}) => {
      if (this.groups.has(name)) throw new StoreError('EXISTS', name);
      const info: GroupInfo = {
        name,
        description: options.description ?? '',
        posting: (options.posting ?? 'y') as PostingStatus,
        low: 1,
        high: 0,
        count: 0,
        createdAt: new Date(),
        mailAddress: options.mailAddress ?? null,
      };
      this.groups.set(name, { info, articles: new Map(), subscribers: [], listeners: new Set() });
      return { ...info };
    },
    updateGroup: async (name, changes) => {
      const g = this.group(name);
      Object.assign(g.info, changes);
      return { ...g.info };
    },
    deleteGroup: async (name) => this.groups.delete(name),
    listGroups: async () => [...this.groups.values()].map((g) => ({ ...g.info })),
    getGroup: async (name) => (this.groups.has(name) ? { ...this.group(name).info } : undefined),
    groupByMailAddress: async (address) => {
      for (const g of this.groups.values())
        if (g.info.mailAddress?.toLowerCase() === address.toLowerCase()) return { ...g.info };
      return undefined;
    },
    post: async (groups, messageId, article) => {
      if (this.articles.has(messageId)) throw new StoreError('DUPLICATE', messageId);
      const data = await bytes(article);
      const refs: ArticleRef[] = [];
      for (const name of groups) {
        const g = this.group(name);
        const number = g.info.high + 1;
        g.info.high = number;
        if (g.info.count === 0) g.info.low = number;
        g.info.count++;
        g.articles.set(number, messageId);
        refs.push({ group: name, number, messageId, size: data.length, postedAt: new Date() });
      }
      this.articles.set(messageId, { data, index: index(data), refs });
      for (const r of refs)
        for (const l of this.group(r.group).listeners) l({ kind: 'new', number: r.number, messageId });
      return refs;
    },
    hasMessageId: async (id) => this.articles.has(id),
    articleByNumber: async (group, number) => {
      const id = this.groups.get(group)?.articles.get(number);
      return id ? this.articles.get(id)!.refs.find((r) => r.group === group) : undefined;
    },
    articleById: async (id) => this.articles.get(id)?.refs[0],
    numbers: async (group, low, high) =>
      [...this.group(group).articles.keys()].filter((n) => n >= low && n <= high).sort((a, b) => a - b),
    overview: async (group, low, high) => {
      const g = this.group(group);
      return [...g.articles.entries()]
        .filter(([n]) => n >= low && n <= high)
        .sort(([a], [b]) => a - b)
        .map(([number, id]) => ({ number, overview: this.articles.get(id)!.index.overview }));
    },
    getIndex: async (id) => this.articles.get(id)?.index,
    openArticle: async (id, range) => {
      const a = this.articles.get(id);
      if (!a) throw new StoreError('NOT_FOUND', id);
      return Readable.from([range ? a.data.subarray(range.start, range.end) : a.data]);
    },
    articlesSince: async (since, match) =>
      [...this.articles.entries()]
        .filter(([, a]) => a.refs[0].postedAt >= since && a.refs.some((r) => !match || match(r.group)))
        .map(([id]) => id),
    addSubscriber: async (group, address) => void this.group(group).subscribers.push(address),
    removeSubscriber: async (group, address) => {
      const g = this.group(group);
      const before = g.subscribers.length;
      g.subscribers = g.subscribers.filter((s) => s !== address);
      return g.subscribers.length < before;
    },
    listSubscribers: async (group) => [...this.group(group).subscribers],
    watch: (group, listener) => {
      this.group(group).listeners.add(listener);
      return () => this.group(group).listeners.delete(listener);
    },
  };

  async close(): Promise<void> {}
}
