/**
 * The store's contracts. Every backend (memory, fs, redis) implements them and passes one
 * conformance suite. Everything is async and safe for several processes sharing a backend.
 * Names a client chooses (user, mailbox, group, Message-ID) are never used as paths or keys
 * as they are: backends encode them.
 */
import type { Readable } from 'node:stream';

// ---- messages and the index built once at delivery ------------------------------------------

/** Message content as given to the store: bytes or a stream of bytes (CRLF line endings). */
export type MessageSource = Buffer | Uint8Array | string | Readable;

/** An address as IMAP's ENVELOPE wants it (RFC 3501 §7.4.2); strings are raw header text. */
export interface EnvelopeAddress {
  name: string | null;
  adl: string | null;
  mailbox: string | null;
  host: string | null;
}

export interface Envelope {
  date: string | null;
  subject: string | null;
  from: EnvelopeAddress[] | null;
  sender: EnvelopeAddress[] | null;
  replyTo: EnvelopeAddress[] | null;
  to: EnvelopeAddress[] | null;
  cc: EnvelopeAddress[] | null;
  bcc: EnvelopeAddress[] | null;
  inReplyTo: string | null;
  messageId: string | null;
}

/**
 * One node of the MIME tree with byte offsets into the stored message, enough to answer
 * BODY[1.2.MIME]<0.100>, BODY[1.TEXT] and BODYSTRUCTURE without reparsing.
 */
export interface MimePart {
  /** IMAP part specifier: '' for the root, '1', '1.2', … */
  path: string;
  /** Lower case, e.g. 'text', 'multipart'. */
  type: string;
  subtype: string;
  /** Content-Type parameters, names lower case, values decoded from RFC 2231 where possible. */
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  /** Content-Transfer-Encoding, upper case as IMAP shows it ('7BIT' default). */
  encoding: string;
  disposition: { type: string; params: Record<string, string> } | null;
  language: string[] | null;
  location: string | null;
  md5: string | null;
  /** Byte offsets in the whole message: header block [headerStart, bodyStart), body [bodyStart, bodyEnd). */
  headerStart: number;
  bodyStart: number;
  bodyEnd: number;
  /** Lines in the body (text/* and message/rfc822 parts). */
  lines: number;
  /** Children of a multipart. */
  parts: MimePart[];
  /** For message/rfc822: the enclosed message's envelope and root part. */
  message?: { envelope: Envelope; root: MimePart };
}

/** The NNTP overview fields (RFC 3977 §8.3), unfolded, tabs replaced by spaces. */
export interface Overview {
  subject: string;
  from: string;
  date: string;
  messageId: string;
  references: string;
  bytes: number;
  lines: number;
}

export interface MessageIndex {
  size: number;
  envelope: Envelope;
  root: MimePart;
  overview: Overview;
  /** Raw header fields in order, names as written, values unfolded. */
  headers: Array<[name: string, value: string]>;
  /** Decoded text of the text parts, for SEARCH BODY/TEXT (capped in size). */
  text: string;
}

// ---- accounts --------------------------------------------------------------------------------

export interface Accounts {
  /** Creates the user (and its INBOX and special-use mailboxes). Throws StoreError 'EXISTS'. */
  addUser(address: string, password: string): Promise<void>;
  deleteUser(address: string): Promise<boolean>;
  setPassword(address: string, password: string): Promise<void>;
  listUsers(): Promise<string[]>;
  hasUser(address: string): Promise<boolean>;
  /** scrypt, compared in constant time; false for an unknown user after the same work. */
  verifyPassword(address: string, password: string): Promise<boolean>;
  addAlias(alias: string, target: string): Promise<void>;
  removeAlias(alias: string): Promise<boolean>;
  listAliases(): Promise<Array<{ alias: string; target: string }>>;
  /** The local user an address is delivered to (aliases followed, domain case-insensitive). */
  resolve(address: string): Promise<string | undefined>;
  addDomain(domain: string): Promise<void>;
  removeDomain(domain: string): Promise<boolean>;
  listDomains(): Promise<string[]>;
  isLocalDomain(domain: string): Promise<boolean>;
}

// ---- mail ------------------------------------------------------------------------------------

export type SpecialUse = '\\Sent' | '\\Drafts' | '\\Trash' | '\\Junk' | '\\Archive';

export interface MailboxInfo {
  name: string;
  specialUse: SpecialUse | null;
  uidValidity: number;
  uidNext: number;
  highestModseq: number;
  messages: number;
  unseen: number;
  recent: number;
  subscribed: boolean;
}

export interface MessageMeta {
  uid: number;
  flags: string[];
  modseq: number;
  size: number;
  internalDate: Date;
}

export interface UidRange {
  /** Inclusive; `end` may be Infinity for '*'. */
  start: number;
  end: number;
}

export type FlagMode = 'set' | 'add' | 'remove';

export type MailChange =
  | { kind: 'new'; uid: number; modseq: number }
  | { kind: 'expunge'; uids: number[]; modseq: number }
  | { kind: 'flags'; uid: number; flags: string[]; modseq: number }
  | { kind: 'deleted' };

export type Unsubscribe = () => void;

export interface MailboxLock {
  release(): Promise<void>;
}

export interface DeliveryTarget {
  user: string;
  /** Default INBOX. */
  mailbox?: string;
  flags?: string[];
}

export interface MailStore {
  listMailboxes(user: string): Promise<MailboxInfo[]>;
  /** STATUS/SELECT facts; undefined when the mailbox does not exist (or is not the user's). */
  getMailbox(user: string, mailbox: string): Promise<MailboxInfo | undefined>;
  /**
   * Not subscribed (RFC 3501 §6.3.3 does not subscribe), unless the name kept a subscription
   * from a deleted namesake; the mailboxes a user is provisioned with are subscribed.
   */
  createMailbox(user: string, mailbox: string, specialUse?: SpecialUse): Promise<MailboxInfo>;
  deleteMailbox(user: string, mailbox: string): Promise<void>;
  renameMailbox(user: string, from: string, to: string): Promise<void>;
  /**
   * Subscribing needs the mailbox (NOT_FOUND otherwise). Unsubscribing also takes a name whose
   * mailbox was deleted while subscribed; NOT_FOUND when the name is neither.
   */
  setSubscribed(user: string, mailbox: string, subscribed: boolean): Promise<void>;
  /**
   * Every subscribed name, including those whose mailbox has since been deleted: RFC 3501
   * §6.3.6, a server must not remove a name from the subscriptions because it no longer exists.
   * A mailbox created again under such a name is subscribed.
   */
  listSubscriptions(user: string): Promise<string[]>;

  append(
    user: string,
    mailbox: string,
    message: MessageSource,
    options?: { flags?: string[]; internalDate?: Date },
  ): Promise<{ uid: number; uidValidity: number; modseq: number }>;
  /**
   * One message to several recipients, written and indexed once; resolves only when durable
   * for every target. All-or-nothing.
   */
  deliver(
    targets: DeliveryTarget[],
    message: MessageSource,
    options?: { internalDate?: Date },
  ): Promise<Array<{ user: string; mailbox: string; uid: number }>>;
  copy(
    user: string,
    from: string,
    uids: number[],
    to: string,
  ): Promise<{ uidValidity: number; map: Array<[source: number, dest: number]> }>;
  /** Copy, then remove the sources; `to` may be `from` (RFC 6851: new UIDs, the old ones gone). */
  move(
    user: string,
    from: string,
    uids: number[],
    to: string,
  ): Promise<{ uidValidity: number; map: Array<[source: number, dest: number]> }>;
  /** CONDSTORE: with `unchangedSince`, messages changed after it are not updated and are returned in `failed`. */
  updateFlags(
    user: string,
    mailbox: string,
    uids: number[],
    mode: FlagMode,
    flags: string[],
    options?: { unchangedSince?: number },
  ): Promise<{ updated: MessageMeta[]; failed: number[] }>;
  /** Removes messages flagged \Deleted (only those in `uids` when given); returns their UIDs. */
  expunge(user: string, mailbox: string, uids?: number[]): Promise<number[]>;
  /** Messages in UID order. With `changedSince`, only those whose modseq is greater. */
  list(
    user: string,
    mailbox: string,
    range?: UidRange,
    options?: { changedSince?: number },
  ): Promise<MessageMeta[]>;
  getIndex(user: string, mailbox: string, uid: number): Promise<MessageIndex | undefined>;
  /** The stored bytes, or the byte range [start, end). */
  openMessage(
    user: string,
    mailbox: string,
    uid: number,
    range?: { start: number; end: number },
  ): Promise<Readable>;
  /** The change feed for one mailbox, from every session and (with redis) every process. */
  watch(user: string, mailbox: string, listener: (change: MailChange) => void): Unsubscribe;
  /** Exclusive access (POP3 maildrop lock); undefined when another holder has it. */
  tryLock(user: string, mailbox: string, ttlMs?: number): Promise<MailboxLock | undefined>;
}

// ---- news ------------------------------------------------------------------------------------

export type PostingStatus = 'y' | 'n' | 'm';

export interface GroupInfo {
  name: string;
  description: string;
  posting: PostingStatus;
  low: number;
  high: number;
  count: number;
  createdAt: Date;
  /** Mail address bound to the group by the gateway, if any. */
  mailAddress: string | null;
}

export interface ArticleRef {
  group: string;
  number: number;
  messageId: string;
  size: number;
  postedAt: Date;
}

export type NewsChange = { kind: 'new'; number: number; messageId: string };

export interface NewsStore {
  createGroup(
    name: string,
    options?: { description?: string; posting?: PostingStatus; mailAddress?: string | null },
  ): Promise<GroupInfo>;
  updateGroup(
    name: string,
    changes: { description?: string; posting?: PostingStatus; mailAddress?: string | null },
  ): Promise<GroupInfo>;
  deleteGroup(name: string): Promise<boolean>;
  listGroups(): Promise<GroupInfo[]>;
  getGroup(name: string): Promise<GroupInfo | undefined>;
  groupByMailAddress(address: string): Promise<GroupInfo | undefined>;
  /**
   * Store an article once, numbered in each group. `messageId` includes the angle brackets.
   * Throws StoreError 'DUPLICATE' when the Message-ID is known.
   */
  post(groups: string[], messageId: string, article: MessageSource): Promise<ArticleRef[]>;
  hasMessageId(messageId: string): Promise<boolean>;
  articleByNumber(group: string, number: number): Promise<ArticleRef | undefined>;
  articleById(messageId: string): Promise<ArticleRef | undefined>;
  /** Article numbers present in [low, high]. */
  numbers(group: string, low: number, high: number): Promise<number[]>;
  overview(group: string, low: number, high: number): Promise<Array<{ number: number; overview: Overview }>>;
  getIndex(messageId: string): Promise<MessageIndex | undefined>;
  openArticle(messageId: string, range?: { start: number; end: number }): Promise<Readable>;
  /** Message-IDs posted at or after `since` in groups whose name `match` accepts (NEWNEWS). */
  articlesSince(since: Date, match?: (group: string) => boolean): Promise<string[]>;
  addSubscriber(group: string, address: string): Promise<void>;
  removeSubscriber(group: string, address: string): Promise<boolean>;
  listSubscribers(group: string): Promise<string[]>;
  watch(group: string, listener: (change: NewsChange) => void): Unsubscribe;
}

// ---- outbound queue --------------------------------------------------------------------------

export interface QueueEnvelope {
  /** '' for the null sender. */
  from: string;
  to: string[];
  /** RFC 3461 parameters kept with the envelope. */
  dsn?: {
    ret?: 'FULL' | 'HDRS';
    envid?: string;
    notify?: Record<string, string[]>;
    orcpt?: Record<string, string>;
  };
}

export interface QueueItem {
  id: string;
  envelope: QueueEnvelope;
  /** Recipients still to deliver (a recipient-level success or failure removes one). */
  pending: string[];
  attempts: number;
  createdAt: Date;
  nextAttemptAt: Date;
  lastError: string | null;
  state: 'queued' | 'leased' | 'failed';
  size: number;
}

export interface Queue {
  enqueue(envelope: QueueEnvelope, message: MessageSource): Promise<string>;
  /** Items due at `now`, leased for `leaseMs` (expired leases are claimable again). */
  claim(limit: number, leaseMs: number, now?: Date): Promise<QueueItem[]>;
  openMessage(id: string): Promise<Readable>;
  /** Retry later; `pending` narrows the recipients still to try. */
  defer(id: string, nextAttemptAt: Date, reason: string, pending?: string[]): Promise<void>;
  complete(id: string): Promise<void>;
  fail(id: string, reason: string): Promise<void>;
  list(): Promise<QueueItem[]>;
  get(id: string): Promise<QueueItem | undefined>;
  delete(id: string): Promise<boolean>;
  /** Make every queued item due now; returns how many. */
  flush(): Promise<number>;
}

// ---- the bundle ------------------------------------------------------------------------------

export interface Store {
  readonly kind: 'memory' | 'fs' | 'redis';
  readonly accounts: Accounts;
  readonly mail: MailStore;
  readonly news: NewsStore;
  readonly queue: Queue;
  close(): Promise<void>;
}

/**
 * `FULL`: no space to write (a full disk or quota, Redis out of memory): temporary, the
 * caller retries later (IMAP `NO [OVERQUOTA]`, SMTP `452 4.3.1`, POP3 `-ERR [SYS/TEMP]`).
 */
export type StoreErrorCode =
  'EXISTS' | 'NOT_FOUND' | 'DUPLICATE' | 'INVALID_NAME' | 'UNAVAILABLE' | 'LOCKED' | 'CORRUPT' | 'FULL';

export class StoreError extends Error {
  constructor(
    readonly code: StoreErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'StoreError';
  }
}
