/**
 * Claiming a Message-ID across processes. The claim file is created with O_EXCL and stays
 * forever, naming the groups to look in; while posting, the poster also holds a lock file
 * beside it. A claim whose lock we can take (its poster finished or died) and whose article
 * is filed nowhere was never acknowledged, so it is taken over instead of refused.
 */
import { promises as fsp } from 'node:fs';
import { StoreError } from '../types.js';
import { createFileExclusive } from './fsutil.js';
import { tryLockFile } from './lock.js';

export async function claimMessageId(
  claimPath: string,
  content: string,
  isFiled: () => Promise<boolean>,
): Promise<{ release(): Promise<void> }> {
  for (let attempt = 0; attempt < 3; attempt++) {
    const lock = await tryLockFile(`${claimPath}.lock`);
    if (!lock) throw new StoreError('DUPLICATE', 'article is being posted');
    if (await createFileExclusive(claimPath, content)) return lock;
    if (await isFiled()) {
      await lock.release();
      throw new StoreError('DUPLICATE', 'duplicate Message-ID');
    }
    await fsp.rm(claimPath, { force: true });
    await lock.release();
  }
  throw new StoreError('DUPLICATE', 'article is being posted');
}
