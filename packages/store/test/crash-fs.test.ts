/**
 * Crash test of the fs backend: a child delivering in a loop is SIGKILLed at random points,
 * several times over one store. After each kill the store is reopened and every delivery the
 * child acknowledged (printed after its promise resolved) must be there exactly once, and the
 * mailbox must pass the consistency check.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { checkMailboxDir, openFsStore, type FsStore } from '../src/fs/index.js';
import { collectAcks, exited, spawnCrashChild } from './fixtures/crash-spawn.js';

const USER = 'crash@example.com';
const ROUNDS = 6;

/** Subject tag of every message in INBOX, in UID order. */
async function tagsInInbox(store: FsStore): Promise<Array<{ uid: number; tag: string }>> {
  const out: Array<{ uid: number; tag: string }> = [];
  for (const m of await store.mail.list(USER, 'INBOX')) {
    const body = await text(await store.mail.openMessage(USER, 'INBOX', m.uid));
    out.push({ uid: m.uid, tag: /^Subject: (\S+)/m.exec(body)?.[1] ?? '?' });
  }
  return out;
}

async function inboxDir(store: FsStore): Promise<string> {
  const box = await store.mail.boxes.get(USER, 'INBOX');
  return box.log.dir;
}

describe('fs store: crash recovery (SIGKILL while delivering)', function () {
  this.timeout(120_000);
  let dir: string;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-crash-'));
    const store = await openFsStore(dir, { domains: ['example.com'] });
    await store.accounts.addUser(USER, 'secret');
    await store.close();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it(`keeps every acknowledged delivery exactly once across ${ROUNDS} kills`, async () => {
    const acked = new Map<string, number>();
    let next = 0;
    for (let round = 0; round < ROUNDS; round++) {
      // Kill after a random number of acknowledgements, plus a random extra delay so the
      // kill lands anywhere in a delivery, a flag update or a compaction.
      const killAfter = 3 + Math.floor(Math.random() * 40);
      const child = spawnCrashChild([dir, USER, String(next), '', '7']);
      let killed = false;
      const { acks, stderr } = collectAcks(child, (n) => {
        if (n >= killAfter && !killed) {
          killed = true;
          setTimeout(() => child.kill('SIGKILL'), Math.floor(Math.random() * 15));
        }
      });
      const { signal, code } = await exited(child);
      assert.equal(signal, 'SIGKILL', `child ended on its own (code ${code}): ${stderr()}`);
      for (const [tag, uid] of acks) acked.set(tag, uid);
      next += 10_000;

      const store = (await openFsStore(dir)) as FsStore;
      try {
        const present = await tagsInInbox(store);
        const counts = new Map<string, number>();
        for (const p of present) counts.set(p.tag, (counts.get(p.tag) ?? 0) + 1);
        for (const [tag, uid] of acked) {
          assert.equal(
            counts.get(tag),
            1,
            `round ${round}: acknowledged ${tag} present ${counts.get(tag) ?? 0} times`,
          );
          assert.ok(
            present.some((p) => p.tag === tag && p.uid === uid),
            `round ${round}: ${tag} not under its UID ${uid}`,
          );
        }
        for (const [tag, n] of counts) assert.equal(n, 1, `round ${round}: ${tag} present ${n} times`);
        const report = await checkMailboxDir(await inboxDir(store));
        assert.deepEqual(report.problems, [], `round ${round}: consistency`);
        assert.equal(report.messages, present.length);
      } finally {
        await store.close();
      }
    }
    assert.ok(acked.size >= ROUNDS * 3, 'the child acknowledged deliveries');
  });

  it('the next writer cuts a torn tail and goes on from the last whole frame', async () => {
    const store = (await openFsStore(dir)) as FsStore;
    try {
      const before = (await store.mail.list(USER, 'INBOX')).length;
      const { appendFile } = await import('node:fs/promises');
      const logPath = join(await inboxDir(store), 'log');
      // Half a frame: a length that promises more bytes than follow.
      await appendFile(logPath, Buffer.from([0x40, 0, 0, 0, 1, 2, 3, 4, 1, 9, 9]));
      const torn = await checkMailboxDir(await inboxDir(store));
      assert.equal(torn.tornBytes, 11);
      const r = await store.mail.append(USER, 'INBOX', 'Subject: after-tear\r\n\r\nx\r\n');
      const after = await store.mail.list(USER, 'INBOX');
      assert.equal(after.length, before + 1);
      assert.equal(after.at(-1)?.uid, r.uid);
      const report = await checkMailboxDir(await inboxDir(store));
      assert.deepEqual(report.problems, []);
      assert.equal(report.tornBytes, 0);
    } finally {
      await store.close();
    }
  });
});
