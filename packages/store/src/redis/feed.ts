/**
 * The change feed across processes: every mutating script PUBLISHes its change on one
 * channel in the same atomic step as the write, so the order on the channel is the modseq
 * order (Redis docs, "Pub/Sub": messages reach a subscriber in publication order). Each
 * store handle subscribes once, before it is returned, and fans messages out to its local
 * watchers; `watch` itself is synchronous and cannot miss a change made after it returns.
 *
 * Pub/sub is at-most-once: a change published while this handle's subscriber is
 * reconnecting is not seen. Sessions resynchronise on their next command (IMAP NOOP, a new
 * SELECT), as after any lost IDLE connection.
 */
import type { Redis } from 'ioredis';
import { ChangeFeed, canonicalMailbox, canonicalUser } from '../common/index.js';
import type { MailChange, NewsChange, Unsubscribe } from '../types.js';

/** What the scripts publish (see `lua.ts`: publishMail, publishNews). */
type FeedMessage = { t: 'm'; u: string; b: string; c: MailChange } | { t: 'n'; g: string; c: NewsChange };

export class RedisFeed {
  private readonly mail = new Map<string, ChangeFeed<MailChange>>();
  private readonly news = new Map<string, ChangeFeed<NewsChange>>();

  private constructor(
    private readonly subscriber: Redis,
    private readonly onBadMessage: (err: unknown) => void,
  ) {}

  /** Subscribes `subscriber` to `channel`; resolves once Redis has confirmed it. */
  static async open(
    subscriber: Redis,
    channel: string,
    onBadMessage: (err: unknown) => void,
  ): Promise<RedisFeed> {
    const feed = new RedisFeed(subscriber, onBadMessage);
    subscriber.on('message', (ch: string, message: string) => {
      if (ch === channel) feed.dispatch(message);
    });
    await subscriber.subscribe(channel);
    return feed;
  }

  watchMail(user: string, mailbox: string, listener: (change: MailChange) => void): Unsubscribe {
    return this.subscribe(this.mail, mailKey(canonicalUser(user), canonicalMailbox(mailbox)), listener);
  }

  watchNews(group: string, listener: (change: NewsChange) => void): Unsubscribe {
    return this.subscribe(this.news, group, listener);
  }

  close(): void {
    for (const f of this.mail.values()) f.clear();
    for (const f of this.news.values()) f.clear();
    this.mail.clear();
    this.news.clear();
    this.subscriber.removeAllListeners('message');
  }

  private subscribe<T>(
    feeds: Map<string, ChangeFeed<T>>,
    key: string,
    listener: (change: T) => void,
  ): Unsubscribe {
    let feed = feeds.get(key);
    if (!feed) feeds.set(key, (feed = new ChangeFeed<T>()));
    const stop = feed.subscribe(listener);
    const owner = feed;
    return () => {
      stop();
      if (owner.size === 0 && feeds.get(key) === owner) feeds.delete(key);
    };
  }

  private dispatch(message: string): void {
    let parsed: FeedMessage;
    try {
      parsed = JSON.parse(message) as FeedMessage;
    } catch (err) {
      this.onBadMessage(err);
      return;
    }
    if (parsed.t === 'm') {
      const key = mailKey(parsed.u, parsed.b);
      const feed = this.mail.get(key);
      if (!feed) return;
      feed.publish(parsed.c);
      // As the other backends do: watchers of a deleted (or renamed) mailbox are done with it.
      if (parsed.c.kind === 'deleted') {
        feed.clear();
        this.mail.delete(key);
      }
    } else if (parsed.t === 'n') {
      this.news.get(parsed.g)?.publish(parsed.c);
    }
  }
}

function mailKey(user: string, mailbox: string): string {
  return `${user}\0${mailbox}`;
}
