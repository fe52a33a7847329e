/**
 * A Redis that comes back empty (FLUSHALL, a restart without persistence, an empty
 * replacement) must not make a gateway bounce mail for its own domains: the domains given at
 * open stay local, and "nobody found" in a store that lost its data is UNAVAILABLE (a 4xx for
 * SMTP), not "no such user" (a 5xx). A store that merely lacks the user still says so.
 */
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { openRedisStore, type RedisStore } from '../src/redis/index.js';
import { StoreError } from '../src/types.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../src/testing/redis-server.js';

/** One Redis command over a raw socket (the test's own client, not the store's). */
export function redisCommand(port: number, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let reply = '';
    s.on('data', (d) => {
      reply += d;
      if (reply.endsWith('\r\n')) {
        s.destroy();
        resolve(reply.trim());
      }
    });
    s.on('error', reject);
    s.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`);
  });
}

const unavailable = (err: unknown) => err instanceof StoreError && err.code === 'UNAVAILABLE';

describe('redis store that lost its data', function () {
  let server: RedisServer | undefined;
  let store: RedisStore | undefined;

  before(async function () {
    if (!hasRedisServer()) {
      this.test!.parent!.title += ' (skipped: redis-server not installed)';
      this.skip();
    }
    server = await startRedisServer();
  });
  after(async () => {
    await store?.close();
    await server?.stop();
  });

  it('keeps the domains given at open local and answers UNAVAILABLE for users it cannot find', async () => {
    store = await openRedisStore(server!.url(), { domains: ['example.test'], prefix: 'lost1' });
    await store.accounts.addUser('ann@example.test', 'pw-ann');
    // Healthy: an unknown user is simply unknown.
    assert.equal(await store.accounts.resolve('nobody@example.test'), undefined);
    assert.equal(await store.accounts.verifyPassword('nobody@example.test', 'x'), false);

    assert.equal(await redisCommand(server!.port, 'FLUSHALL'), '+OK');

    assert.equal(await store.accounts.isLocalDomain('EXAMPLE.test'), true);
    assert.deepEqual(await store.accounts.listDomains(), ['example.test']);
    assert.equal(await store.accounts.isLocalDomain('elsewhere.test'), false);
    await assert.rejects(store.accounts.resolve('ann@example.test'), unavailable);
    await assert.rejects(store.accounts.resolve('nobody@example.test'), unavailable);
    await assert.rejects(store.accounts.verifyPassword('ann@example.test', 'pw-ann'), unavailable);
  });

  it('is healthy again once a handle opens it afresh (the admin re-creates its users)', async () => {
    const again = await openRedisStore(server!.url(), { prefix: 'lost1' });
    try {
      await again.accounts.addUser('ann@example.test', 'pw-ann');
      assert.equal(await store!.accounts.resolve('ann@example.test'), 'ann@example.test');
      assert.equal(await store!.accounts.resolve('nobody@example.test'), undefined);
    } finally {
      await again.close();
    }
  });
});
