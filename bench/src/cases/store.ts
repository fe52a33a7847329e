/**
 * Store cases (issue 4): deliveries/s for 1 KiB and 100 KiB messages on the fs backend
 * (fsync per acknowledged delivery) next to the memory backend as the peer column, and the
 * time to open a 100k-message mailbox (UID list with flags) from a fresh handle.
 * Issue 13: the same deliveries on Redis (AOF, appendfsync always: durable per delivery, as
 * fs is) next to fs, against a redis-server the bench starts; skipped with a note without one.
 */
import {
  createMemoryStore,
  measureFsStore,
  openFsStore,
  openRedisStore,
  type FsBenchResult,
  type Store,
} from '@postern/store';
import { hasRedisServer, startRedisServer, type RedisServer } from '@postern/store/testing';
import type { BenchCase } from '../harness.js';

const USER = 'bench@example.com';

/** Sequential deliveries of `count` messages of `size` body bytes to one user, per second. */
async function deliveriesPerSecond(store: Store, size: number, count: number): Promise<number> {
  await store.accounts.addUser(USER, 'bench');
  const body = Buffer.alloc(size, 'm');
  const msg = (i: number) =>
    Buffer.concat([Buffer.from(`Subject: bench ${i}\r\nMessage-ID: <m${i}@example.com>\r\n\r\n`), body]);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await store.mail.deliver([{ user: USER }], msg(i));
  return (count / (performance.now() - t0)) * 1000;
}

function memoryDeliveries(size: number, count: number): Promise<number> {
  return deliveriesPerSecond(createMemoryStore({ domains: ['example.com'] }), size, count);
}

let redisRuns = 0;

async function redisDeliveries(url: string, size: number, count: number): Promise<number> {
  // A fresh key prefix per round: each round starts from an empty mailbox, as the fs one does.
  const store = await openRedisStore(url, { prefix: `bench${++redisRuns}`, domains: ['example.com'] });
  try {
    return await deliveriesPerSecond(store, size, count);
  } finally {
    await store.close();
  }
}

function redisCases(quick: boolean, fsDeliveries: (size: number) => Promise<number>): BenchCase[] {
  if (!hasRedisServer()) {
    process.stderr.write(
      'bench: redis store cases skipped: redis-server not installed (apt-get install redis-server)\n',
    );
    return [];
  }
  // One redis-server for both sizes, with AOF fsynced on every write (durable per delivery, as fs is).
  let rig: RedisServer | undefined;
  let users = 0;
  return [1024, 100 * 1024].map((size): BenchCase => ({
    name: `store deliveries ${size / 1024} KiB (redis vs fs)`,
    unit: 'deliveries/s',
    peerName: 'fs backend',
    rounds: { quick: 1, full: 3 },
    note: 'redis-server on loopback with AOF appendfsync always (each delivery fsynced before its reply); one sequential client; ratio = redis/fs',
    setup: async () => {
      users++;
      rig ??= await startRedisServer({ appendfsync: 'always' });
    },
    teardown: async () => {
      if (--users === 0) {
        await rig?.stop();
        rig = undefined;
      }
    },
    postern: () => redisDeliveries(rig!.url(), size, quick ? 100 : 300),
    peer: () => fsDeliveries(size),
  }));
}

export function storeCases(quick: boolean): BenchCase[] {
  let fs: FsBenchResult | undefined;
  const measure = async () =>
    (fs ??= await measureFsStore({
      open: (dir) => openFsStore(dir),
      mailboxSize: quick ? 20_000 : 100_000,
      deliveries: quick ? 100 : 300,
      parallel: [1],
    }));
  const deliveries = (size: number): BenchCase => ({
    name: `store deliveries ${size / 1024} KiB (fs vs memory)`,
    unit: 'deliveries/s',
    peerName: 'memory backend',
    rounds: { quick: 1, full: 1 },
    note: 'fs fsyncs file and directory before each delivery resolves; ratio = fs/memory',
    postern: async () => (await measure()).deliveriesPerSecond[`${size}B x1`]!,
    peer: () => memoryDeliveries(size, quick ? 100 : 300),
  });
  return [
    deliveries(1024),
    deliveries(100 * 1024),
    ...redisCases(quick, async (size) => (await measure()).deliveriesPerSecond[`${size}B x1`]!),
    {
      name: `fs mailbox open (${quick ? '20k' : '100k'} messages, warm cache)`,
      unit: 'ms',
      lowerIsBetter: true,
      rounds: { quick: 1, full: 1 },
      note: 'target < 300 ms for 100k messages: getMailbox + list of every UID with flags, fresh handle',
      postern: async () => (await measure()).openMedianMs,
    },
  ];
}
