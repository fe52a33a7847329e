/**
 * A raw line client for hostile tests: bytes exactly as written, replies read line by line,
 * every wait bounded. It never throws on a peer that closes or resets: a refused or dropped
 * connection is an outcome the tests assert on, not an accident.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';

/** Loopback address of the "other client": all of 127/8 is loopback on Linux. */
export const OTHER_CLIENT = '127.0.0.2';

export class TimeoutError extends Error {}

export interface ConnectOptions {
  port: number;
  /** Source address (default 127.0.0.1). */
  localAddress?: string;
  /** Implicit TLS (certificates are not checked: the handshake is what is tested). */
  tls?: boolean;
  timeoutMs?: number;
}

export class RawClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  /** Set once the peer closed (FIN, reset or error): no more bytes will come. */
  closed = false;
  closeReason: string | undefined;
  bytesReceived = 0;
  readonly closedAt: Promise<void>;

  constructor(readonly socket: Duplex) {
    let markClosed!: () => void;
    this.closedAt = new Promise((r) => (markClosed = r));
    const onGone = (why: string) => {
      if (this.closed) return;
      this.closed = true;
      this.closeReason = why;
      markClosed();
      this.wake();
    };
    socket.on('data', (d: Buffer) => {
      this.bytesReceived += d.length;
      this.buffer = Buffer.concat([this.buffer, d]);
      this.wake();
    });
    socket.on('end', () => onGone('end'));
    socket.on('close', () => onGone('close'));
    socket.on('error', (e: Error) => onGone(e.message));
  }

  /** Connect, resolving once TCP (and TLS, if asked) is up; rejects on failure or timeout. */
  static connect(options: ConnectOptions): Promise<RawClient> {
    const timeoutMs = options.timeoutMs ?? 5000;
    return new Promise((resolve, reject) => {
      const base = {
        host: '127.0.0.1',
        port: options.port,
        localAddress: options.localAddress ?? '127.0.0.1',
      };
      const socket = options.tls
        ? tls.connect({ ...base, rejectUnauthorized: false, servername: 'localhost' })
        : net.connect(base);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new TimeoutError(`connect to ${options.port} not done after ${timeoutMs} ms`));
      }, timeoutMs);
      const fail = (err: Error) => {
        clearTimeout(timer);
        socket.destroy();
        reject(err);
      };
      socket.once('error', fail);
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        socket.off('error', fail);
        resolve(new RawClient(socket));
      });
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  /** Resolve on the next arrival of bytes or close, or after `ms`. */
  private wait(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** The next CRLF- or LF-terminated line (without its end); undefined if the peer closed first. */
  async readLine(timeoutMs = 5000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const nl = this.buffer.indexOf(10);
      if (nl !== -1) {
        const line = this.buffer.subarray(0, nl).toString('latin1').replace(/\r$/, '');
        this.buffer = this.buffer.subarray(nl + 1);
        return line;
      }
      if (this.closed) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new TimeoutError(`no line after ${timeoutMs} ms`);
      await this.wait(left);
    }
  }

  /** Read lines until one matches `done`; returns every line read. Undefined on close. */
  async readUntil(done: RegExp, timeoutMs = 5000): Promise<string[] | undefined> {
    const deadline = Date.now() + timeoutMs;
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine(Math.max(1, deadline - Date.now()));
      if (line === undefined) return undefined;
      lines.push(line);
      if (done.test(line)) return lines;
    }
  }

  /** Send a command and read its reply up to the line matching `done`; throws if the reply is not `ok`. */
  async command(line: string, done: RegExp, timeoutMs = 5000): Promise<string[]> {
    this.write(`${line}\r\n`);
    const lines = await this.readUntil(done, timeoutMs);
    if (!lines) throw new Error(`connection closed after ${JSON.stringify(line)}`);
    return lines;
  }

  write(data: string | Uint8Array): boolean {
    if (this.closed || this.socket.destroyed) return false;
    return this.socket.write(data);
  }

  /** Whether anything has arrived that was not read yet. */
  get pending(): number {
    return this.buffer.length;
  }

  /** Wait until the peer closes; true if it did within `timeoutMs`. */
  async waitClosed(timeoutMs: number): Promise<boolean> {
    if (this.closed) return true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((r) => (timer = setTimeout(() => r(false), timeoutMs)));
    const r = await Promise.race([this.closedAt.then(() => true as const), timedOut]);
    clearTimeout(timer);
    return r;
  }

  destroy(): void {
    this.socket.destroy();
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Run `fn` with at most `limit` in flight at a time. */
export async function inBatches<T>(
  count: number,
  limit: number,
  fn: (i: number) => Promise<T>,
): Promise<T[]> {
  const out: T[] = new Array(count);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < count; i = next++) out[i] = await fn(i);
  };
  await Promise.all(Array.from({ length: Math.min(limit, count) }, worker));
  return out;
}
