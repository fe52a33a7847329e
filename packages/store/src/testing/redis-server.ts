/**
 * `@postern/store/testing`: starts a throwaway `redis-server` for tests and benchmarks — ours,
 * and those of anyone running Postern on Redis inside their own tests. A free port on 127.0.0.1, a
 * temp dir, no RDB snapshots, and AOF off unless asked (`appendfsync` then as given). It is
 * killed by `stop()`; `restart()` brings it back on the same port (the restart tests).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  /** redis://127.0.0.1:<port>/<db> */
  url(db?: number): string;
  /** Kills the server (SIGKILL when `crash`, else SIGTERM) and waits for its exit; the port and dir stay. */
  kill(crash?: boolean): Promise<void>;
  /** Starts it again on the same port and dir. */
  restart(): Promise<void>;
  /** Kills it and removes its dir. */
  stop(): Promise<void>;
}

export interface RedisServerOptions {
  /** 'always' | 'everysec' turns AOF on; default off (the tests do not need durability). */
  appendfsync?: 'always' | 'everysec';
}

export function hasRedisServer(): boolean {
  return spawnSync('sh', ['-c', 'command -v redis-server'], { stdio: 'ignore' }).status === 0;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

function launch(port: number, dir: string, options: RedisServerOptions): Promise<ChildProcess> {
  const aof = options.appendfsync
    ? ['--appendonly', 'yes', '--appendfsync', options.appendfsync]
    : ['--appendonly', 'no'];
  const child = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      ...aof,
      '--loglevel',
      'notice',
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (d: Buffer) => {
      out += d.toString();
      // The startup line, logged at 'notice' level once the listener is up.
      if (/Ready to accept connections/.test(out)) {
        child.stdout!.off('data', onData);
        child.stdout!.resume();
        child.off('exit', onExit);
        resolve(child);
      }
    };
    const onExit = (code: number | null) =>
      reject(new Error(`redis-server exited (${code}): ${out.slice(-500)}`));
    child.stdout!.on('data', onData);
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    child.on('exit', onExit);
    child.on('error', reject);
  });
}

export async function startRedisServer(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-redis-'));
  const port = await freePort();
  let child: ChildProcess | undefined = await launch(port, dir, options);
  const kill = async (crash = false) => {
    const c = child;
    child = undefined;
    if (!c || c.exitCode !== null || c.signalCode !== null) return;
    const exited = new Promise<void>((r) => c.once('exit', () => r()));
    c.kill(crash ? 'SIGKILL' : 'SIGTERM');
    await exited;
  };
  return {
    port,
    url: (db = 0) => `redis://127.0.0.1:${port}/${db}`,
    kill,
    restart: async () => {
      await kill();
      child = await launch(port, dir, options);
    },
    stop: async () => {
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
