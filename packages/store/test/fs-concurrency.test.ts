/**
 * Several writers on one fs data dir: two store handles in this process and a child
 * process append to the same mailbox at once; every message gets its own UID, each
 * writer's UIDs increase, and both handles end up seeing the same mailbox.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkMailboxDir, openFsStore, type FsStore } from '../src/fs/index.js';
import { collectAcks, exited, spawnCrashChild } from './fixtures/crash-spawn.js';

const USER = 'conc@example.com';

describe('fs store: concurrent writers on one directory', function () {
  this.timeout(60_000);
  let dir: string;
  let a: FsStore;
  let b: FsStore;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-conc-'));
    a = (await openFsStore(dir, { domains: ['example.com'] })) as FsStore;
    b = (await openFsStore(dir)) as FsStore;
    await a.accounts.addUser(USER, 'pw');
  });
  afterEach(async () => {
    await a.close();
    await b.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('two handles appending at once get distinct increasing UIDs', async () => {
    const N = 40;
    const run = async (s: FsStore, who: string): Promise<number[]> => {
      const uids: number[] = [];
      for (let i = 0; i < N; i++)
        uids.push((await s.mail.append(USER, 'INBOX', `Subject: ${who}${i}\r\n\r\n.\r\n`)).uid);
      return uids;
    };
    const [ua, ub] = await Promise.all([run(a, 'a'), run(b, 'b')]);
    for (const u of [ua, ub])
      for (let i = 1; i < u.length; i++) assert.ok(u[i] > u[i - 1], 'UIDs increase per writer');
    const all = [...ua, ...ub];
    assert.equal(new Set(all).size, 2 * N, 'no UID given twice');
    const seenA = (await a.mail.list(USER, 'INBOX')).map((m) => m.uid);
    const seenB = (await b.mail.list(USER, 'INBOX')).map((m) => m.uid);
    assert.deepEqual(
      seenA,
      [...all].sort((x, y) => x - y),
    );
    assert.deepEqual(seenB, seenA);
    const info = await b.mail.getMailbox(USER, 'INBOX');
    assert.equal(info?.uidNext, Math.max(...all) + 1);
    assert.equal(info?.messages, 2 * N);
  });

  it('many appends at once through one handle (group commit) each get their own UID, durably logged', async () => {
    const results = await Promise.all(
      Array.from({ length: 24 }, (_, i) => a.mail.append(USER, 'INBOX', `Subject: g${i}\r\n\r\n.\r\n`)),
    );
    const uids = results.map((r) => r.uid);
    assert.equal(new Set(uids).size, 24);
    const fresh = await openFsStore(dir);
    try {
      assert.deepEqual(
        (await fresh.mail.list(USER, 'INBOX')).map((m) => m.uid),
        [...uids].sort((x, y) => x - y),
      );
    } finally {
      await fresh.close();
    }
    const box = await a.mail.boxes.get(USER, 'INBOX');
    assert.deepEqual((await checkMailboxDir(box.log.dir)).problems, []);
  });

  it('the maildrop lock (POP3) is exclusive across handles until released', async () => {
    const held = await a.mail.tryLock(USER, 'INBOX');
    assert.ok(held);
    assert.equal(await b.mail.tryLock(USER, 'INBOX'), undefined);
    assert.equal(await a.mail.tryLock(USER, 'INBOX'), undefined, 'not re-entrant either');
    await held.release();
    const next = await b.mail.tryLock(USER, 'INBOX');
    assert.ok(next);
    await next.release();
  });

  it('a handle sees flag changes and expunges made through another', async () => {
    const { uid } = await a.mail.append(USER, 'INBOX', 'Subject: x\r\n\r\n.\r\n');
    await b.mail.list(USER, 'INBOX'); // b has replayed the log once
    await a.mail.updateFlags(USER, 'INBOX', [uid], 'add', ['\\Deleted']);
    assert.deepEqual((await b.mail.list(USER, 'INBOX'))[0].flags, ['\\Deleted']);
    assert.deepEqual(await b.mail.expunge(USER, 'INBOX'), [uid]);
    assert.deepEqual(await a.mail.list(USER, 'INBOX'), []);
  });

  it('a child process and this process appending at once get distinct UIDs', async () => {
    const N = 30;
    const child = spawnCrashChild([dir, USER, '0', String(N)]);
    const { acks, stderr } = collectAcks(child);
    const mine: number[] = [];
    for (let i = 0; i < N; i++)
      mine.push((await a.mail.append(USER, 'INBOX', `Subject: p${i}\r\n\r\n.\r\n`)).uid);
    const { code } = await exited(child);
    assert.equal(code, 0, stderr());
    const theirs = [...acks.values()];
    assert.equal(theirs.length, N);
    for (let i = 1; i < theirs.length; i++) assert.ok(theirs[i] > theirs[i - 1]);
    assert.equal(new Set([...mine, ...theirs]).size, 2 * N);
    assert.equal((await b.mail.list(USER, 'INBOX')).length, 2 * N);
    const box = await a.mail.boxes.get(USER, 'INBOX');
    assert.deepEqual((await checkMailboxDir(box.log.dir)).problems, []);
  });

  it("the change feed carries another handle's writes (directory watch)", async () => {
    const seen: number[] = [];
    let wake!: () => void;
    const arrived = new Promise<void>((r) => (wake = r));
    const stop = b.mail.watch(USER, 'INBOX', (c) => {
      if (c.kind === 'new') {
        seen.push(c.uid);
        wake();
      }
    });
    try {
      await b.mail.boxes.feedReady(USER, 'INBOX');
      const { uid } = await a.mail.append(USER, 'INBOX', 'Subject: w\r\n\r\n.\r\n');
      await arrived;
      assert.deepEqual(seen, [uid]);
    } finally {
      stop();
    }
  });
});
