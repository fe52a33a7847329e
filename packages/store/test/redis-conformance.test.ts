/**
 * The store conformance suite on Redis, against a redis-server of its own on a free port.
 * Each test gets its own key prefix, and `openSecond` a second handle (two more
 * connections), so the feed, claims and concurrent appends really cross processes' paths.
 */
import { openRedisStore } from '../src/redis/index.js';
import { runStoreConformance } from './conformance.js';
import { hasRedisServer, startRedisServer, type RedisServer } from '../src/testing/redis-server.js';

describe('redis backend', function () {
  let server: RedisServer | undefined;
  let n = 0;

  before(async function () {
    if (!hasRedisServer()) {
      // One line in the report, as requireProgram in @postern/core does (store does not depend on core).
      this.test!.parent!.title += ' (skipped: redis-server not installed)';
      this.skip();
    }
    server = await startRedisServer();
  });
  after(async () => server?.stop());

  runStoreConformance('redis', async () => {
    const url = server!.url();
    const prefix = `conformance${++n}`;
    return {
      store: await openRedisStore(url, { prefix }),
      openSecond: () => openRedisStore(url, { prefix }),
      cleanup: async () => {},
    };
  });
});
