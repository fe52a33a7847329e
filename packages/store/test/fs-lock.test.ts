/**
 * Cross-process lock files: exclusive while the owner lives, broken when the owner is dead
 * (a SIGKILLed writer must not block the mailbox forever) or its lease ran out.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockFile, tryLockFile } from '../src/fs/lock.js';
import { StoreError } from '../src/types.js';

/** A pid that has certainly exited: a child we ran to completion. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

describe('fs store: lock files', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-lock-'));
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is exclusive while held and free after release', async () => {
    const path = join(dir, 'a.lock');
    const first = await tryLockFile(path);
    assert.ok(first);
    assert.equal(await tryLockFile(path), undefined);
    await first.release();
    const again = await tryLockFile(path);
    assert.ok(again);
    await again.release();
    assert.deepEqual(await readdir(dir), [], 'no temp or lock files left behind');
  });

  it('breaks a lock whose owner process is dead', async () => {
    const path = join(dir, 'b.lock');
    await writeFile(path, JSON.stringify({ pid: deadPid(), start: '1', token: 'dead', expiresAt: null }));
    const lock = await tryLockFile(path);
    assert.ok(lock, 'a dead owner does not hold the lock');
    assert.ok(await lock.stillHeld());
    await lock.release();
  });

  it('breaks a lock whose pid was reused by another process (start time differs)', async () => {
    const path = join(dir, 'c.lock');
    await writeFile(
      path,
      JSON.stringify({ pid: process.pid, start: 'not-our-start', token: 'old', expiresAt: null }),
    );
    const lock = await tryLockFile(path);
    assert.ok(lock);
    await lock.release();
  });

  it('a lease that ran out can be taken even though its owner lives', async () => {
    const path = join(dir, 'd.lock');
    const leased = await tryLockFile(path, -1);
    assert.ok(leased);
    const taken = await tryLockFile(path);
    assert.ok(taken, 'expired lease is broken');
    assert.equal(await leased.stillHeld(), false);
    await leased.release(); // must not remove the new owner's lock
    assert.ok(await taken.stillHeld());
    await taken.release();
  });

  it('waiters in one process queue up and each gets the lock in turn', async () => {
    const path = join(dir, 'e.lock');
    const order: number[] = [];
    let inside = 0;
    await Promise.all(
      [0, 1, 2, 3, 4].map(async (i) => {
        const l = await lockFile(path);
        inside++;
        assert.equal(inside, 1, 'only one holder at a time');
        order.push(i);
        await new Promise((r) => setImmediate(r));
        inside--;
        await l.release();
      }),
    );
    assert.equal(order.length, 5);
  });

  it('gives up with StoreError LOCKED when a live holder keeps it', async () => {
    const path = join(dir, 'f.lock');
    const held = await tryLockFile(path);
    assert.ok(held);
    await assert.rejects(lockFile(path, 30), (e: unknown) => e instanceof StoreError && e.code === 'LOCKED');
    await held.release();
  });
});
