/** Accounts held in memory: the same rules as the fs backend (scrypt, aliases, domains). */
import {
  canonicalUser,
  hashPassword,
  normalizeDomain,
  validateUser,
  verifyPassword,
} from '../common/index.js';
import { StoreError, type Accounts } from '../types.js';

/** Alias chains longer than this (or loops) resolve to nobody. */
const MAX_ALIAS_HOPS = 8;
const naming = { canonicalUser, validateUser };
const passwords = { hash: hashPassword, verify: verifyPassword };

export class MemoryAccounts implements Accounts {
  private readonly users = new Map<string, string>();
  private readonly aliases = new Map<string, string>();
  private readonly domains = new Set<string>();

  constructor(
    private readonly hooks: { provision(user: string): void; remove(user: string): void },
    domains: readonly string[] = [],
  ) {
    for (const d of domains) this.domains.add(normalizeDomain(d));
  }

  async addUser(address: string, password: string): Promise<void> {
    naming.validateUser(address);
    const user = naming.canonicalUser(address);
    if (this.users.has(user) || this.aliases.has(user)) throw new StoreError('EXISTS', 'user exists');
    const hash = await passwords.hash(password);
    // Checked again: another addUser of the same name may have finished during the hash.
    if (this.users.has(user)) throw new StoreError('EXISTS', 'user exists');
    this.users.set(user, hash);
    this.hooks.provision(user);
  }

  async deleteUser(address: string): Promise<boolean> {
    const user = naming.canonicalUser(address);
    if (!this.users.delete(user)) return false;
    // Aliases pointing at the user would otherwise deliver to a later namesake.
    for (const [a, t] of [...this.aliases]) if (t === user) this.aliases.delete(a);
    this.hooks.remove(user);
    return true;
  }

  async setPassword(address: string, password: string): Promise<void> {
    const user = naming.canonicalUser(address);
    if (!this.users.has(user)) throw new StoreError('NOT_FOUND', 'no such user');
    this.users.set(user, await passwords.hash(password));
  }

  async listUsers(): Promise<string[]> {
    return [...this.users.keys()].sort();
  }

  async hasUser(address: string): Promise<boolean> {
    return this.users.has(naming.canonicalUser(address));
  }

  async verifyPassword(address: string, password: string): Promise<boolean> {
    // The same scrypt work for an unknown user (constant time, DESIGN.md security stance).
    return passwords.verify(password, this.users.get(naming.canonicalUser(address)));
  }

  async addAlias(alias: string, target: string): Promise<void> {
    naming.validateUser(alias);
    const a = naming.canonicalUser(alias);
    if (this.aliases.has(a) || this.users.has(a)) throw new StoreError('EXISTS', 'address in use');
    naming.validateUser(target);
    this.aliases.set(a, naming.canonicalUser(target));
  }

  async removeAlias(alias: string): Promise<boolean> {
    return this.aliases.delete(naming.canonicalUser(alias));
  }

  async listAliases(): Promise<Array<{ alias: string; target: string }>> {
    return [...this.aliases]
      .map(([alias, target]) => ({ alias, target }))
      .sort((x, y) => (x.alias < y.alias ? -1 : x.alias > y.alias ? 1 : 0));
  }

  async resolve(address: string): Promise<string | undefined> {
    let current = naming.canonicalUser(address);
    for (let hop = 0; hop <= MAX_ALIAS_HOPS; hop++) {
      if (this.users.has(current)) return current;
      const next = this.aliases.get(current);
      if (next === undefined) return undefined;
      current = next;
    }
    return undefined;
  }

  async addDomain(domain: string): Promise<void> {
    this.domains.add(normalizeDomain(domain));
  }

  async removeDomain(domain: string): Promise<boolean> {
    return this.domains.delete(normalizeDomain(domain));
  }

  async listDomains(): Promise<string[]> {
    return [...this.domains].sort();
  }

  async isLocalDomain(domain: string): Promise<boolean> {
    return this.domains.has(normalizeDomain(domain));
  }
}
