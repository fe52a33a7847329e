/**
 * A Postern IMAP or NNTP server in a child process for the protocol benchmarks (imap.ts,
 * nntp.ts): the raw-socket client runs in the bench process, so the server gets a process of
 * its own, as Dovecot does. Plaintext, `allowInsecureAuth` on loopback (test-rig option).
 *
 * The child fills its store through the store API, prints `ready <port>`, and exits when
 * its stdin closes (the bench died) or on SIGTERM. `POSTERN_BENCH_CPU_PROF=<dir>` runs it
 * under `node --cpu-prof` for profiling. The message generators are shared with the peers'
 * loaders so both sides hold the same bytes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_USER = { address: 'bench@example.test', password: 'bench-password' };
export const OVER_GROUP = 'bench.over';
export const POST_GROUP = 'bench.post';

const BASE_DATE = Date.UTC(2024, 0, 1);
const BODY_LINE = 'The widget pipeline processed another batch of records without incident.';

/** RFC 5322 date, e.g. "Mon, 01 Jan 2024 00:00:00 +0000". */
function rfcDate(ms: number): string {
  return new Date(ms).toUTCString().replace('GMT', '+0000');
}

/** Mail message `i` (~900 bytes): display names, To with two addresses, Cc on half, threading on a third. */
export function mailMessage(i: number): Buffer {
  const h = [
    `Date: ${rfcDate(BASE_DATE + i * 60_000)}`,
    `From: "Sender ${i % 97}" <sender${i % 97}@example.org>`,
    `To: Bench User <${BENCH_USER.address}>, list${i % 13}@lists.example.org`,
    ...(i % 2 === 0 ? ['Cc: "Carol Q. Copy" <carol@example.net>'] : []),
    `Subject: Benchmark message ${i}: status of the widget pipeline`,
    `Message-ID: <${i}.bench@example.org>`,
    ...(i % 3 === 1
      ? [`In-Reply-To: <${i - 1}.bench@example.org>`, `References: <${i - 1}.bench@example.org>`]
      : []),
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=us-ascii',
  ];
  const body = Array.from({ length: 8 }, (_, n) => `${BODY_LINE} ${i}.${n}`);
  return Buffer.from([...h, '', ...body, ''].join('\r\n'));
}

/** Flags of mail message `i`: three in four \Seen, one in ten \Flagged. */
export function mailFlags(i: number): string[] {
  const flags: string[] = [];
  if (i % 10 === 0) flags.push('\\Flagged');
  if (i % 4 !== 0) flags.push('\\Seen');
  return flags;
}

export function articleMessageId(i: number): string {
  return `<a${i}@bench.example.org>`;
}

/** News article `i` for `group`; without a Message-ID when `withId` is false (POST adds one). */
export function newsArticle(i: number, group: string, withId = true): Buffer {
  const h = [
    `From: "Poster ${i % 50}" <poster${i % 50}@example.org>`,
    `Newsgroups: ${group}`,
    `Subject: Article ${i} on the widget pipeline`,
    `Date: ${rfcDate(BASE_DATE + i * 60_000)}`,
    ...(withId ? [`Message-ID: ${articleMessageId(i)}`, 'Path: bench'] : []),
    ...(withId && i % 3 === 1 ? [`References: ${articleMessageId(i - 1)}`] : []),
  ];
  const body = Array.from({ length: 8 }, (_, n) => `${BODY_LINE} ${i}.${n}`);
  return Buffer.from([...h, '', ...body, ''].join('\r\n'));
}

export interface ChildConfig {
  protocol: 'imap' | 'nntp';
  store: 'memory' | 'fs';
  /** IMAP: messages in the INBOX; NNTP: articles in OVER_GROUP. */
  messages: number;
}

export interface ProtocolChild {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});
process.once('SIGINT', () => process.exit(130));

/** Start a child server and wait until it has loaded its store and listens. */
export async function startProtocolChild(config: ChildConfig): Promise<ProtocolChild> {
  const prof = process.env.POSTERN_BENCH_CPU_PROF;
  const child = spawn(
    process.execPath,
    [
      ...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []),
      fileURLToPath(import.meta.url),
      JSON.stringify(config),
    ],
    { stdio: ['pipe', 'pipe', 'inherit'] },
  );
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const stop = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    live.delete(child);
  };
  try {
    const port = await new Promise<number>((resolve, reject) => {
      let buf = '';
      child.stdout!.on('data', (d: Buffer) => {
        buf += d.toString();
        const m = /^ready (\d+)$/m.exec(buf);
        if (m) resolve(Number(m[1]));
      });
      child.once('exit', (code) => reject(new Error(`bench ${config.protocol} server exited with ${code}`)));
    });
    // A child left behind (a filtered run) must not keep the bench alive; the exit hook kills it.
    child.unref();
    (child.stdin as unknown as { unref(): void }).unref();
    (child.stdout as unknown as { unref(): void }).unref();
    return { port, child, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---- the child side --------------------------------------------------------------------------

async function serve(config: ChildConfig): Promise<void> {
  const { CertificateStore, NativeTlsEngine, generateSelfSigned } = await import('@postern/core');
  const { createMemoryStore, openFsStore } = await import('@postern/store');
  let dir: string | undefined;
  const domains = ['example.test'];
  const store =
    config.store === 'fs'
      ? await openFsStore((dir = mkdtempSync(join(tmpdir(), 'postern-bench-store-'))), { domains })
      : createMemoryStore({ domains });
  await store.accounts.addUser(BENCH_USER.address, BENCH_USER.password);
  const key = await generateSelfSigned({ hostname: 'localhost' });
  const tls = { engine: new NativeTlsEngine(), server: { certificates: new CertificateStore([key]) } };
  const common = { hostname: 'localhost', tls, store, allowInsecureAuth: true };
  let handler: { handleConnection(s: import('node:net').Socket, o: { implicitTls: boolean }): Promise<void> };
  if (config.protocol === 'imap') {
    const { ImapServer } = await import('@postern/imap');
    for (let i = 0; i < config.messages; i++) {
      await store.mail.deliver([{ user: BENCH_USER.address, flags: mailFlags(i) }], mailMessage(i), {
        internalDate: new Date(BASE_DATE + i * 60_000),
      });
    }
    handler = new ImapServer({ ...common, maxSessionsPerUser: 1000 });
  } else {
    const { NntpServer } = await import('@postern/nntp');
    await store.news.createGroup(OVER_GROUP);
    await store.news.createGroup(POST_GROUP);
    for (let i = 0; i < config.messages; i++) {
      await store.news.post([OVER_GROUP], articleMessageId(i), newsArticle(i, OVER_GROUP));
    }
    handler = new NntpServer(common);
  }
  // As packages/server's listeners do (Nagle off).
  const server = createServer({ noDelay: true }, (s) => {
    s.on('error', () => s.destroy());
    void handler.handleConnection(s, { implicitTls: false });
  });
  server.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const quit = () => {
    server.close();
    void store.close().finally(() => {
      if (dir) rmSync(dir, { recursive: true, force: true });
      process.exit(0);
    });
  };
  process.once('SIGTERM', quit);
  process.stdin.on('end', quit);
  process.stdin.resume();
  process.stdout.write(`ready ${(server.address() as AddressInfo).port}\n`);
}

if (process.argv[1] === fileURLToPath(import.meta.url) && process.argv[2]) {
  serve(JSON.parse(process.argv[2]) as ChildConfig).catch((err: unknown) => {
    process.stderr.write(`bench child: ${(err as Error).stack}\n`);
    process.exit(1);
  });
}
