/**
 * A `postern serve` child process for the benchmarks that measure the gateway's own memory
 * (clients run in the bench process, so their sockets don't count against the server).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openStore } from '@postern/store';

const CLI = fileURLToPath(new URL('../../packages/server/dist/src/cli.js', import.meta.url));

export interface GatewayProcess {
  child: ChildProcess;
  ports: Record<string, number>;
  dataDir: string;
  certificatePem: string;
  /** Resident set size of the server process, bytes. */
  rss(): number;
  stop(): Promise<void>;
}

export const BENCH_USER = { address: 'bench@example.test', password: 'bench-password' };

/** Users for connection-heavy cases: IMAP allows 20 sessions per user by default. */
export const benchUser = (i: number) => ({ address: `bench${i}@example.test`, password: 'bench-password' });

export async function startGatewayProcess(extraArgs: string[] = [], extraUsers = 0): Promise<GatewayProcess> {
  const dataDir = mkdtempSync(join(tmpdir(), 'postern-bench-'));
  const add = spawnSync(process.execPath, [CLI, 'user', 'add', BENCH_USER.address, '--password', BENCH_USER.password, '--data-dir', dataDir]);
  if (add.status !== 0) throw new Error(`user add failed: ${add.stderr}`);
  if (extraUsers > 0) {
    const store = await openStore('fs', { dataDir });
    for (let i = 0; i < extraUsers; i++) await store.accounts.addUser(benchUser(i).address, benchUser(i).password);
    await store.close();
  }
  const ports = ['smtp', 'submission', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s', 'nntp', 'nntps'].flatMap((l) => [`--${l}-port`, '0']);
  const child = spawn(
    process.execPath,
    [CLI, 'serve', '--data-dir', dataDir, '--domain', 'example.test', '--log-level', 'warn', ...ports, ...extraArgs],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const found: Record<string, number> = {};
  await new Promise<void>((resolve, reject) => {
    let buf = '';
    child.stdout!.on('data', (d: Buffer) => {
      buf += d;
      for (let nl = buf.indexOf('\n'); nl !== -1; nl = buf.indexOf('\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        const m = /^listening (\S+) \S+:(\d+) /.exec(line);
        if (m) found[m[1]!] = Number(m[2]);
        if (line === 'postern ready') resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`postern serve exited with ${code}`)));
  });
  const certificatePem = readFileSync(join(dataDir, 'tls', 'localhost.cert.pem'), 'utf8');
  return {
    child,
    ports: found,
    dataDir,
    certificatePem,
    rss() {
      const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
      return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    },
    async stop() {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
