/**
 * A user's list of mailboxes: name → { id, special use, subscription, UIDVALIDITY }. The
 * mailbox's files live under boxes/<id>, never under its name, so a client-chosen name never
 * becomes a path and RENAME is one atomic replace of this small file. The file's absence
 * means the user has no mailboxes (no such user).
 */
import { join } from 'node:path';
import type { SpecialUse } from '../types.js';
import { StoreError } from '../types.js';
import { JsonDoc } from './json-doc.js';

export interface BoxRecord {
  name: string;
  id: string;
  specialUse: SpecialUse | null;
  subscribed: boolean;
  uidValidity: number;
}

export interface Registry {
  nextId: number;
  lastUidValidity: number;
  boxes: BoxRecord[];
  /** Subscribed names whose mailbox was deleted (RFC 3501 §6.3.6 keeps them); absent = none. */
  keptSubscriptions?: string[];
}

export const REGISTRY_FILE = 'mailboxes.json';

export class MailRegistry {
  private readonly doc: JsonDoc<Registry>;

  constructor(readonly userDir: string) {
    this.doc = new JsonDoc(join(userDir, REGISTRY_FILE));
  }

  boxDir(id: string): string {
    return join(this.userDir, 'boxes', id);
  }

  read(): Promise<Registry | undefined> {
    return this.doc.read();
  }

  async find(name: string): Promise<BoxRecord | undefined> {
    return (await this.read())?.boxes.find((b) => b.name === name);
  }

  /** Change the registry under the user's lock; `create` starts one for a new user. */
  async update<T>(
    fn: (reg: Registry) => Promise<{ changed: boolean; value: T }>,
    create = false,
  ): Promise<T> {
    try {
      return await this.doc.update(
        fn,
        create ? () => ({ nextId: 1, lastUidValidity: 0, boxes: [] }) : undefined,
      );
    } catch (err) {
      if (err instanceof StoreError && err.code === 'NOT_FOUND' && !create)
        throw new StoreError('NOT_FOUND', 'no such user');
      throw err;
    }
  }
}

/** A UIDVALIDITY that never repeats for this user: the clock, but always past the last one. */
export function nextUidValidity(reg: Registry): number {
  const v = Math.max(Math.floor(Date.now() / 1000) % 0xffffffff, reg.lastUidValidity + 1);
  reg.lastUidValidity = v;
  return v;
}
