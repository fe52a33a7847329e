/**
 * Store cases (issue 4): deliveries/s for 1 KiB and 100 KiB messages on the fs backend
 * (fsync per acknowledged delivery) next to the memory backend as the peer column, and the
 * time to open a 100k-message mailbox (UID list with flags) from a fresh handle.
 * Issue 13: the same deliveries on Redis (AOF, appendfsync always: durable per delivery, as
 * fs is) next to fs, against a redis-server the bench starts; skipped with a note without one.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createMemoryStore,
  measureFsStore,
  openFsStore,
  openRedisStore,
  type FsBenchResult,
} from '@postern/store';
import type { BenchCase } from '../harness.js';

const USER = 'bench@example.com';

async function memoryDeliveries(size: number, count: number): Promise<number> {
  const store = createMemoryStore({ domains: ['example.com'] });
  await store.accounts.addUser(USER, 'bench');
  const body = Buffer.alloc(size, 'm');
  const msg = (i: number) =>
    Buffer.concat([Buffer.from(`Subject: bench ${i}\r\nMessage-ID: <m${i}@example.com>\r\n\r\n`), body]);
  const t0 = performance.now();
  for (let i = 0; i < count; i++) await store.mail.deliver([{ user: USER }], msg(i));
  return (count / (performance.now() - t0)) * 1000;
}

/** A redis-server of the bench's own: free port, temp dir, AOF with fsync on every write. */
class RedisRig {
  private child: ChildProcess | undefined;
  private dir: string | undefined;
  url = '';

  async start(): Promise<void> {
    if (this.child) return;
    this.dir = mkdtempSync(join(tmpdir(), 'postern-bench-redis-'));
    const port = await new Promise<number>((resolve, reject) => {
      const srv = createServer().listen(0, '127.0.0.1', () => {
        const { port } = srv.address() as { port: number };
        srv.close(() => resolve(port));
      });
      srv.on('error', reject);
    });
    const args = ['--port', String(port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    const child = spawn('redis-server', [...args, '--appendonly', 'yes', '--appendfsync', 'always'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    this.child = child;
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.on('exit', (code) => reject(new Error(`redis-server exited (${code}): ${out.slice(-300)}`)));
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/Ready to accept connections/.test(out)) resolve();
      });
    });
    child.removeAllListeners('exit');
    this.url = `redis://127.0.0.1:${port}/0`;
  }

  async stop(): Promise<void> {
    const c = this.child;
    this.child = undefined;
    if (c && c.exitCode === null) {
      const exited = new Promise((r) => c.once('exit', r));
      c.kill('SIGTERM');
      await exited;
    }
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
  }
}

let redisRuns = 0;

async function redisDeliveries(url: string, size: number, count: number): Promise<number> {
  // A fresh key prefix per round: each round starts from an empty mailbox, as the fs one does.
  const store = await openRedisStore(url, { prefix: `bench${++redisRuns}`, domains: ['example.com'] });
  try {
    await store.accounts.addUser(USER, 'bench');
    const body = Buffer.alloc(size, 'm');
    const msg = (i: number) =>
      Buffer.concat([Buffer.from(`Subject: bench ${i}\r\nMessage-ID: <m${i}@example.com>\r\n\r\n`), body]);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) await store.mail.deliver([{ user: USER }], msg(i));
    return (count / (performance.now() - t0)) * 1000;
  } finally {
    await store.close();
  }
}

function redisCases(quick: boolean, fsDeliveries: (size: number) => Promise<number>): BenchCase[] {
  if (spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status !== 0) {
    process.stderr.write(
      'bench: redis store cases skipped: redis-server not installed (apt-get install redis-server)\n',
    );
    return [];
  }
  const rig = new RedisRig();
  return [1024, 100 * 1024].map((size): BenchCase => ({
    name: `store deliveries ${size / 1024} KiB (redis vs fs)`,
    unit: 'deliveries/s',
    peerName: 'fs backend',
    rounds: { quick: 1, full: 3 },
    note: 'redis-server on loopback with AOF appendfsync always (each delivery fsynced before its reply); one sequential client; ratio = redis/fs',
    setup: () => rig.start(),
    teardown: () => rig.stop(),
    postern: () => redisDeliveries(rig.url, size, quick ? 100 : 300),
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
