import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../src/fs/index.js';
import { runStoreConformance } from './conformance.js';

runStoreConformance('fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'postern-conformance-'));
  return { store: await openFsStore(dir), cleanup: () => rm(dir, { recursive: true, force: true }) };
});
