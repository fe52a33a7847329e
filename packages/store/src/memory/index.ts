/**
 * The memory backend: every store interface in one process's memory, for tests and
 * `--store memory`. Same rules as every backend (src/common: name checks, scrypt passwords,
 * flags; src/indexer: one parse at delivery); nothing survives the process.
 */
import { DEFAULT_MAILBOXES } from '../common/index.js';
import type { Store } from '../types.js';
import { MemoryAccounts } from './accounts.js';
import { MemoryMailStore } from './mail.js';
import { MemoryNewsStore } from './news.js';
import { MemoryQueue } from './queue.js';

export class MemoryStore implements Store {
  readonly kind = 'memory' as const;
  readonly mail = new MemoryMailStore();
  readonly news = new MemoryNewsStore();
  readonly queue = new MemoryQueue();
  readonly accounts: MemoryAccounts;

  constructor(options: { domains?: string[] } = {}) {
    this.accounts = new MemoryAccounts(
      {
        provision: (user) => this.mail.provision(user, DEFAULT_MAILBOXES),
        remove: (user) => this.mail.remove(user),
      },
      options.domains,
    );
  }

  async close(): Promise<void> {
    this.mail.close();
    this.news.close();
  }
}

export function createMemoryStore(options: { domains?: string[] } = {}): Store {
  return new MemoryStore(options);
}
