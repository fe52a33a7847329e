/**
 * Assembling the fs backend from its parts. The helpers it needs from the rest of the
 * package (indexer, password hashing, name rules) are passed in, so this file depends only
 * on the fs modules and the contracts.
 */
import { promises as fsp } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Store } from '../types.js';
import { DEFAULT_MAILBOXES, FsAccounts, type PasswordScheme } from './accounts.js';
import { ensureDir } from './fsutil.js';
import type { Indexer } from './ingest.js';
import { Layout } from './layout.js';
import { FsMailStore, type MailNaming } from './mail-store.js';
import { FsNewsStore, type NewsNaming } from './news-store.js';
import { FsQueue } from './queue.js';
import type { SpecialUse } from '../types.js';
import { SpaceReserve } from './space-reserve.js';

export interface FsDeps {
  indexer: Indexer;
  passwords: PasswordScheme;
  naming: MailNaming &
    NewsNaming & {
      validateUser(address: string): void;
    };
  defaultMailboxes?: Array<{ name: string; specialUse: SpecialUse | null }>;
}

export class FsStore implements Store {
  readonly kind = 'fs' as const;
  readonly accounts: FsAccounts;
  readonly mail: FsMailStore;
  readonly news: FsNewsStore;
  readonly queue: FsQueue;
  readonly layout: Layout;
  /** Room kept so that deleting mail works on a full disk (space-reserve.ts). */
  readonly space: SpaceReserve;

  constructor(dir: string, deps: FsDeps) {
    this.layout = new Layout(resolve(dir));
    this.space = new SpaceReserve(this.layout.root);
    this.mail = new FsMailStore(this.layout, deps.indexer, deps.naming, this.space);
    const boxes = deps.defaultMailboxes ?? DEFAULT_MAILBOXES;
    this.accounts = new FsAccounts(this.layout, deps.passwords, {
      canonicalUser: deps.naming.canonicalUser,
      validateUser: deps.naming.validateUser,
      provision: (user) => this.mail.provisionUser(user, boxes),
      remove: (user) => this.mail.removeUser(user),
    });
    this.news = new FsNewsStore(this.layout, deps.indexer, deps.naming, this.space);
    this.queue = new FsQueue(this.layout, this.space);
  }

  async close(): Promise<void> {
    this.mail.close();
    this.news.close();
  }
}

export async function openFsStoreWith(
  dir: string,
  deps: FsDeps,
  options?: { domains?: string[] },
): Promise<FsStore> {
  const store = new FsStore(dir, deps);
  await ensureDir(store.layout.root);
  await ensureDir(store.layout.tmp);
  await sweepSpool(store.layout.tmp);
  await store.space.open();
  await store.accounts.pin(options?.domains ?? []);
  return store;
}

/** Spool files of processes that died mid-write were never acknowledged: remove them. */
async function sweepSpool(tmp: string): Promise<void> {
  for (const name of await fsp.readdir(tmp)) {
    const pid = Number(/^msg-(\d+)\./.exec(name)?.[1]);
    if (!pid || pid === process.pid) continue;
    let alive = true;
    try {
      process.kill(pid, 0);
    } catch (err) {
      alive = (err as NodeJS.ErrnoException).code === 'EPERM';
    }
    if (!alive) await fsp.rm(join(tmp, name), { force: true });
  }
}
