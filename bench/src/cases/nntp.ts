/**
 * NNTP cases (issue 11): OVER over every article of a 100k-article group (quick: 10k), and
 * POST/s from 4 concurrent authenticated clients on the memory and the fs store.
 *
 * Postern only: no NNTP server from Debian is light enough for the bench to configure (INN2's
 * innd wants a news tree, history database and active file), so the peer column is empty.
 * Postern runs in a child process (protocol-child.ts) with its group filled through
 * store.news.post; a raw-socket client runs in the bench process, in plaintext with
 * AUTHINFO USER/PASS (the test-rig option allowInsecureAuth).
 */
import { connect, type Socket } from 'node:net';
import type { BenchCase } from '../harness.js';
import {
  BENCH_USER,
  OVER_GROUP,
  POST_GROUP,
  newsArticle,
  startProtocolChild,
  type ProtocolChild,
} from '../protocol-child.js';

interface NntpReply {
  ms: number;
  code: number;
  bytes: number;
  /** The whole response, when asked to keep it. */
  text?: string;
}

/** Just enough NNTP to time a command: the status line, and for a 2xx multi-line answer the closing dot. */
class RawNntp {
  private tail = '';
  private pending:
    | {
        multi: boolean;
        head: string;
        t0: number;
        bytes: number;
        chunks?: Buffer[];
        resolve(r: NntpReply): void;
        reject(e: Error): void;
      }
    | undefined;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('NNTP connection closed')));
  }

  static async open(port: number): Promise<RawNntp> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const c = new RawNntp(socket);
    const greeting = await c.send(undefined, false);
    if (greeting.code !== 200 && greeting.code !== 201) throw new Error(`NNTP greeting ${greeting.code}`);
    return c;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }

  private onData(d: Buffer): void {
    this.tail = (this.tail + d.toString('latin1', Math.max(0, d.length - 1024))).slice(-1024);
    const p = this.pending;
    if (!p) return;
    if (p.bytes < 512) p.head += d.toString('latin1', 0, Math.min(d.length, 512));
    p.bytes += d.length;
    p.chunks?.push(d);
    const eol = p.head.indexOf('\r\n');
    if (eol === -1) return;
    const code = Number(p.head.slice(0, 3));
    const done = !p.multi || code < 200 || code >= 300 ? true : this.tail.endsWith('\r\n.\r\n');
    if (!done) return;
    const ms = performance.now() - p.t0;
    this.pending = undefined;
    p.resolve({ ms, code, bytes: p.bytes, text: p.chunks && Buffer.concat(p.chunks).toString('latin1') });
  }

  /** Write `data` (a command line, or an article) and time the reply; multi: a 2xx reply is a dot-terminated block. */
  send(data: string | Buffer | undefined, multi: boolean, keep = false): Promise<NntpReply> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<NntpReply>((resolve, reject) => {
      this.pending = {
        multi,
        head: '',
        t0: performance.now(),
        bytes: 0,
        chunks: keep ? [] : undefined,
        resolve,
        reject,
      };
      if (data !== undefined) this.socket.write(data);
    });
  }

  async expect(line: string, code: number, multi = false, keep = false): Promise<NntpReply> {
    const r = await this.send(`${line}\r\n`, multi, keep);
    if (r.code !== code) throw new Error(`${line.split(' ')[0]}: expected ${code}, got ${r.code}`);
    return r;
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.on('error', () => undefined);
    this.socket.destroy();
  }
}

/** RFC 3977 §3.1.1: dot-stuffed, CRLF.CRLF-terminated. */
function dotEncode(article: Buffer): Buffer {
  let text = article.toString('latin1').replace(/^\./gm, '..');
  if (!text.endsWith('\r\n')) text += '\r\n';
  return Buffer.from(`${text}.\r\n`, 'latin1');
}

async function over(port: number, n: number, keep = false): Promise<NntpReply> {
  const c = await RawNntp.open(port);
  try {
    await c.expect(`GROUP ${OVER_GROUP}`, 211);
    return await c.expect(`OVER 1-${n}`, 224, true, keep);
  } finally {
    c.close();
  }
}

let postSerial = 0;

/** Posts/s: `clients` sessions, each posting its share in turn (POST, 340, article, 240). */
async function postRate(port: number, clients: number, total: number): Promise<number> {
  const sessions = await Promise.all(
    Array.from({ length: clients }, async () => {
      const c = await RawNntp.open(port);
      await c.expect(`AUTHINFO USER ${BENCH_USER.address}`, 381);
      await c.expect(`AUTHINFO PASS ${BENCH_USER.password}`, 281);
      return c;
    }),
  );
  try {
    const t0 = performance.now();
    await Promise.all(
      sessions.map(async (c, k) => {
        for (let i = k; i < total; i += clients) {
          await c.expect('POST', 340);
          const r = await c.send(dotEncode(newsArticle(++postSerial, POST_GROUP, false)), false);
          if (r.code !== 240) throw new Error(`POST: expected 240, got ${r.code}`);
        }
      }),
    );
    return (total / (performance.now() - t0)) * 1000;
  } finally {
    for (const c of sessions) c.close();
  }
}

export function nntpCases(quick: boolean): BenchCase[] {
  const n = quick ? 10_000 : 100_000;
  let overServer: ProtocolChild | undefined;
  const postCase = (store: 'memory' | 'fs'): BenchCase => {
    let server: ProtocolChild | undefined;
    return {
      name: `nntp POST/s, 4 clients (${store} store)`,
      unit: 'posts/s',
      rounds: { quick: 3, full: 5 },
      note:
        store === 'fs'
          ? 'each 240 only after the article and its index entry are fsynced; ~800-byte articles, plaintext AUTHINFO on loopback; no peer'
          : '~800-byte articles, plaintext AUTHINFO on loopback; no peer',
      async setup() {
        server = await startProtocolChild({ protocol: 'nntp', store, messages: 0 });
        // Warm-up, long enough for the JIT to settle on the POST path.
        await postRate(server.port, 4, store === 'fs' ? 40 : 800).catch(async (err: unknown) => {
          await server?.stop(); // the harness runs teardown only after a setup that succeeded
          throw err;
        });
      },
      // fs: every 240 waits for an fsync, so fewer posts give as steady a rate.
      postern: (q) => postRate(server!.port, 4, (store === 'fs' ? 0.25 : 1) * (q ? 800 : 2000)),
      teardown: async () => server?.stop(),
    };
  };
  return [
    {
      name: `nntp OVER ${n / 1000}k articles (memory store)`,
      unit: 'ms',
      lowerIsBetter: true,
      rounds: { quick: 5, full: 7 },
      note: 'GROUP then OVER 1-N, ms from command to the closing dot; same raw client as imap; no peer (INN2 is not configured by the bench)',
      async setup() {
        overServer = await startProtocolChild({ protocol: 'nntp', store: 'memory', messages: n });
        try {
          for (let i = 0; i < 2; i++) {
            const r = await over(overServer.port, n, true); // warm-up and check
            const lines = r.text!.split('\r\n').length - 3; // status, the dot, and the empty tail
            if (lines !== n) throw new Error(`OVER answered ${lines} of ${n} articles`);
          }
        } catch (err) {
          await overServer.stop(); // the harness runs teardown only after a setup that succeeded
          throw err;
        }
      },
      postern: async () => (await over(overServer!.port, n)).ms,
      teardown: async () => overServer?.stop(),
    },
    postCase('memory'),
    postCase('fs'),
  ];
}
