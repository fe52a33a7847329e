/**
 * Redis going away and coming back: calls fail at once with UNAVAILABLE (never hang, never
 * crash the process), the handle reconnects by itself, its change feed resubscribes, and
 * nothing acknowledged before the restart is lost when Redis persists with AOF.
 */
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { openRedisStore, type RedisStore } from '../src/redis/index.js';
import { StoreError, type MailChange } from '../src/types.js';
import { collector } from './conformance/context.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../src/testing/redis-server.js';

const U = 'ann@example.com';
const msg = (s: string) => `Subject: ${s}\r\n\r\n${s}\r\n`;
const unavailable = (e: unknown) => e instanceof StoreError && e.code === 'UNAVAILABLE';

/** Retries `fn` until it stops failing with UNAVAILABLE (mocha's timeout bounds the wait). */
async function once<T>(fn: () => Promise<T>): Promise<T> {
  for (;;) {
    try {
      return await fn();
    } catch (err) {
      if (!unavailable(err)) throw err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describe('redis backend: restarts', function () {
  this.timeout(30_000);
  let server: RedisServer | undefined;
  let a: RedisStore | undefined;
  let b: RedisStore | undefined;
  const errors: Error[] = [];

  before(async function () {
    if (!hasRedisServer()) {
      this.test!.parent!.title += ' (skipped: redis-server not installed)';
      this.skip();
    }
    // AOF with fsync on every write: what was acknowledged survives the restart.
    server = await startRedisServer({ appendfsync: 'always' });
    a = await openRedisStore(server.url(), { onError: (e) => errors.push(e) });
    b = await openRedisStore(server.url(), { onError: (e) => errors.push(e) });
    await a.accounts.addUser(U, 'pw');
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await server?.stop();
  });

  it('fails fast with UNAVAILABLE while Redis is down, and resumes by itself', async () => {
    const before = await a!.mail.append(U, 'INBOX', msg('before'));
    const seen = collector<MailChange>();
    const stop = b!.mail.watch(U, 'INBOX', seen.push);
    await server!.kill(true);
    await assert.rejects(a!.mail.append(U, 'INBOX', msg('lost')), unavailable);
    await assert.rejects(a!.accounts.verifyPassword(U, 'pw'), unavailable);
    await assert.rejects(a!.mail.list(U, 'INBOX'), unavailable);
    await assert.rejects(a!.queue.claim(1, 1000), unavailable);
    await server!.restart();
    const after = await once(() => a!.mail.append(U, 'INBOX', msg('after')));
    assert.equal(
      after.uid,
      before.uid + 1,
      'the acknowledged message survived (AOF always); the refused one left no trace',
    );
    assert.deepEqual(
      (await a!.mail.list(U, 'INBOX')).map((m) => m.uid),
      [before.uid, after.uid],
    );
    assert.equal(await text(await a!.mail.openMessage(U, 'INBOX', before.uid)), msg('before'));
    // The feed's connection resubscribed by itself: a later delivery reaches b's watcher.
    // Pub/sub is at-most-once: what is published before the resubscription (on a loaded
    // machine, more than one delivery) is never heard, so deliver again until one is.
    const heard = (uid: number) => seen.items.some((c) => c.kind === 'new' && c.uid === uid);
    for (let i = 0; ; i++) {
      const next = await a!.mail.append(U, 'INBOX', msg(`next ${i}`));
      for (let t = 0; t < 20 && !heard(next.uid); t++) await new Promise((r) => setTimeout(r, 50));
      if (heard(next.uid)) break;
    }
    stop();
  });
});
