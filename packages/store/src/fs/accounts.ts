/**
 * Accounts in one small JSON file, shared by every process using the data dir: reads are
 * cached by inode/mtime/size; every change is read-modify-write under a lock file with an
 * atomic replace (write temp, fsync, rename, fsync dir), so a reader never sees half a file
 * and two CLIs adding users at once both win.
 */
import type { Accounts, SpecialUse } from '../types.js';
import { StoreError } from '../types.js';
import { normalizeDomain } from './deps.js';
import { JsonDoc } from './json-doc.js';
import type { Layout } from './layout.js';

interface AccountsFile {
  users: Record<string, { hash: string }>;
  aliases: Record<string, string>;
  domains: string[];
}

export interface PasswordScheme {
  hash(password: string): Promise<string>;
  /** Constant-time; `hash` undefined means an unknown user: do the same work, return false. */
  verify(password: string, hash: string | undefined): Promise<boolean>;
}

export interface UserHooks {
  canonicalUser(address: string): string;
  validateUser(address: string): void;
  provision(user: string): Promise<void>;
  remove(user: string): Promise<void>;
}

export const DEFAULT_MAILBOXES: Array<{ name: string; specialUse: SpecialUse | null }> = [
  { name: 'INBOX', specialUse: null },
  { name: 'Sent', specialUse: '\\Sent' },
  { name: 'Drafts', specialUse: '\\Drafts' },
  { name: 'Trash', specialUse: '\\Trash' },
  { name: 'Junk', specialUse: '\\Junk' },
  { name: 'Archive', specialUse: '\\Archive' },
];

const MAX_ALIAS_HOPS = 10;

const emptyAccounts = (): AccountsFile => ({ users: {}, aliases: {}, domains: [] });

export class FsAccounts implements Accounts {
  private readonly doc: JsonDoc<AccountsFile>;
  /** Domains given at open: local for this handle's life, whatever happens to the file. */
  private readonly pinned = new Set<string>();
  /** The accounts file was there once: its absence now means the data was lost, not new. */
  private seen = false;

  constructor(
    layout: Layout,
    private readonly passwords: PasswordScheme,
    private readonly hooks: UserHooks,
  ) {
    this.doc = new JsonDoc(layout.accountsFile);
  }

  private async read(): Promise<AccountsFile> {
    const doc = await this.doc.read();
    if (doc) this.seen = true;
    return doc ?? emptyAccounts();
  }

  /** The domains given at open stay local (see `pinned`); they are also written to the file. */
  async pin(domains: readonly string[]): Promise<void> {
    for (const d of domains) {
      if (!(await this.read()).domains.includes(normalizeDomain(d))) await this.addDomain(d);
      this.pinned.add(normalizeDomain(d));
    }
    await this.read();
  }

  /**
   * Nobody found in accounts that have vanished (the data dir wiped under a running server)
   * is "cannot tell now", not "no such user": mail is retried, not bounced.
   */
  private async checkNotLost(): Promise<void> {
    if (this.seen && (await this.doc.read()) === undefined)
      throw new StoreError('UNAVAILABLE', 'the accounts file has disappeared; try again later');
  }

  private update<T>(fn: (a: AccountsFile) => { changed: boolean; value: T }): Promise<T> {
    return this.doc.update(fn, emptyAccounts);
  }

  private user(address: string): string {
    return this.hooks.canonicalUser(address);
  }

  async addUser(address: string, password: string): Promise<void> {
    this.hooks.validateUser(address);
    const user = this.user(address);
    const hash = await this.passwords.hash(password);
    await this.update((a) => {
      if (a.users[user]) throw new StoreError('EXISTS', 'user exists');
      a.users[user] = { hash };
      return { changed: true, value: undefined };
    });
    // Mailboxes after the account: a crash in between leaves a user whose mailboxes are
    // created on the next provision (idempotent), never mailboxes without a user.
    await this.hooks.provision(user);
  }

  async deleteUser(address: string): Promise<boolean> {
    const user = this.user(address);
    const existed = await this.update((a) => {
      if (!a.users[user]) return { changed: false, value: false };
      delete a.users[user];
      return { changed: true, value: true };
    });
    if (existed) await this.hooks.remove(user);
    return existed;
  }

  async setPassword(address: string, password: string): Promise<void> {
    const user = this.user(address);
    const hash = await this.passwords.hash(password);
    await this.update((a) => {
      if (!a.users[user]) throw new StoreError('NOT_FOUND', 'no such user');
      a.users[user] = { hash };
      return { changed: true, value: undefined };
    });
  }

  async listUsers(): Promise<string[]> {
    return Object.keys((await this.read()).users).sort();
  }

  async hasUser(address: string): Promise<boolean> {
    return Object.hasOwn((await this.read()).users, this.user(address));
  }

  async verifyPassword(address: string, password: string): Promise<boolean> {
    const users = (await this.read()).users;
    const user = this.user(address);
    const known = Object.hasOwn(users, user);
    const ok = await this.passwords.verify(password, known ? users[user].hash : undefined);
    if (!known) await this.checkNotLost();
    return ok;
  }

  async addAlias(alias: string, target: string): Promise<void> {
    this.hooks.validateUser(alias);
    const a1 = this.user(alias);
    const t = this.user(target);
    await this.update((a) => {
      if (Object.hasOwn(a.aliases, a1) || Object.hasOwn(a.users, a1))
        throw new StoreError('EXISTS', 'address in use');
      a.aliases[a1] = t;
      return { changed: true, value: undefined };
    });
  }

  async removeAlias(alias: string): Promise<boolean> {
    const a1 = this.user(alias);
    return this.update((a) => {
      if (!Object.hasOwn(a.aliases, a1)) return { changed: false, value: false };
      delete a.aliases[a1];
      return { changed: true, value: true };
    });
  }

  async listAliases(): Promise<Array<{ alias: string; target: string }>> {
    return Object.entries((await this.read()).aliases)
      .map(([alias, target]) => ({ alias, target }))
      .sort((x, y) => (x.alias < y.alias ? -1 : x.alias > y.alias ? 1 : 0));
  }

  async resolve(address: string): Promise<string | undefined> {
    const user = this.follow(await this.read(), address);
    if (user === undefined) await this.checkNotLost();
    return user;
  }

  private follow(a: AccountsFile, address: string): string | undefined {
    let current = this.user(address);
    for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop++) {
      if (Object.hasOwn(a.users, current)) return current;
      if (!Object.hasOwn(a.aliases, current)) return undefined;
      current = this.user(a.aliases[current]);
    }
    return undefined; // an alias loop
  }

  async addDomain(domain: string): Promise<void> {
    const d = normalizeDomain(domain);
    await this.update((a) => {
      if (a.domains.includes(d)) return { changed: false, value: undefined };
      a.domains.push(d);
      a.domains.sort();
      return { changed: true, value: undefined };
    });
  }

  async removeDomain(domain: string): Promise<boolean> {
    const d = normalizeDomain(domain);
    return this.update((a) => {
      const i = a.domains.indexOf(d);
      if (i < 0) return { changed: false, value: false };
      a.domains.splice(i, 1);
      return { changed: true, value: true };
    });
  }

  async listDomains(): Promise<string[]> {
    return [...new Set([...(await this.read()).domains, ...this.pinned])].sort();
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    const d = normalizeDomain(domain);
    return this.pinned.has(d) || (await this.read()).domains.includes(d);
  }
}
