/**
 * The fs counterpart of the Redis "emptied store" case (issue 19, item 8): the domains given
 * at open stay local, and when the accounts file vanishes under a running handle, an address
 * it cannot find is UNAVAILABLE (SMTP 451), not unknown (550).
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../src/fs/index.js';
import { StoreError, type Store } from '../src/types.js';

const unavailable = (err: unknown) => err instanceof StoreError && err.code === 'UNAVAILABLE';

describe('fs store whose accounts vanish', () => {
  let dir: string;
  let s: Store;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-lost-'));
    s = await openFsStore(dir, { domains: ['example.com'] });
    await s.accounts.addUser('ann@example.com', 'pw');
  });
  after(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps its start-up domains local and answers UNAVAILABLE instead of "no such user"', async () => {
    assert.equal(await s.accounts.resolve('nobody@example.com'), undefined, 'healthy: simply unknown');
    const second = await openFsStore(dir);
    assert.deepEqual(await second.accounts.listDomains(), ['example.com'], 'the domain is in the file too');
    await second.close();
    await rm(join(dir, 'accounts.json'));
    assert.equal(await s.accounts.isLocalDomain('example.com'), true);
    assert.deepEqual(await s.accounts.listDomains(), ['example.com']);
    await assert.rejects(s.accounts.resolve('ann@example.com'), unavailable);
    await assert.rejects(s.accounts.resolve('nobody@example.com'), unavailable);
    await assert.rejects(s.accounts.verifyPassword('ann@example.com', 'pw'), unavailable);
  });
});
