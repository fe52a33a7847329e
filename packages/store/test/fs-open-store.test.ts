/** openStore(spec): what the CLI and the server configuration call. */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../src/open-store.js';
import { StoreError } from '../src/types.js';

describe('openStore', () => {
  let dataDir: string;
  beforeEach(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'postern-open-'));
  });
  afterEach(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it("'fs' keeps the store under <dataDir>/store, shared by later opens", async () => {
    const a = await openStore('fs', { dataDir, domains: ['example.com'] });
    assert.equal(a.kind, 'fs');
    await a.accounts.addUser('cli@example.com', 'pw');
    await a.news.createGroup('local.cli');
    await a.close();
    assert.deepEqual(await readdir(dataDir), ['store']);
    const b = await openStore('fs', { dataDir });
    assert.deepEqual(await b.accounts.listUsers(), ['cli@example.com']);
    assert.deepEqual(
      (await b.news.listGroups()).map((g) => g.name),
      ['local.cli'],
    );
    await b.close();
  });

  it('answers UNAVAILABLE where no Redis listens, and refuses unknown specs, with typed errors', async () => {
    // Port 1 (tcpmux) is closed here: a default 6379 might have a real Redis behind it.
    await assert.rejects(
      openStore('redis://127.0.0.1:1/0', { dataDir }),
      (e: unknown) => e instanceof StoreError && e.code === 'UNAVAILABLE',
    );
    await assert.rejects(
      openStore('../etc', { dataDir }),
      (e: unknown) => e instanceof StoreError && e.code === 'INVALID_NAME',
    );
  });
});
