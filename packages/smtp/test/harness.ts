/**
 * An SmtpServer on 127.0.0.1 port 0 (one listener per role) over an fs store in a temporary
 * directory, with a self-signed 'localhost' certificate, and a small raw client for the tests
 * that need exact control of the bytes on the wire.
 */
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { CertificateStore, NativeTlsEngine, generateSelfSigned, type CertifiedKey } from '@postern/core';
import { openFsStore, type Store } from '@postern/store';
import { SmtpServer, type SmtpServerOptions } from '../src/index.js';

export const DOMAIN = 'example.test';
export const BOB = { address: 'bob@example.test', password: 'bob-secret-pw' };
export const CAROL = { address: 'carol@example.test', password: 'carol-secret-pw' };

let cert: Promise<CertifiedKey> | undefined;
export const testCertificate = () =>
  (cert ??= generateSelfSigned({ hostname: 'localhost', altNames: ['127.0.0.1'] }));

export interface SmtpHarness {
  store: Store;
  ca: string;
  ports: { mx: number; submission: number; smtps: number };
  servers: SmtpServer[];
  close(): Promise<void>;
}

export type HarnessOptions = Partial<Omit<SmtpServerOptions, 'store' | 'tls' | 'role'>>;

async function listen(handler: SmtpServer, implicitTls: boolean): Promise<Server> {
  const server = createServer((socket) => void handler.handleConnection(socket, { implicitTls }));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return server;
}

export async function startSmtp(options: HarnessOptions = {}): Promise<SmtpHarness> {
  const key = await testCertificate();
  const dir = await mkdtemp(join(tmpdir(), 'postern-smtp-test-'));
  const store = await openFsStore(dir, { domains: [DOMAIN] });
  await store.accounts.addUser(BOB.address, BOB.password);
  await store.accounts.addUser(CAROL.address, CAROL.password);
  const common = {
    hostname: 'mx.example.test',
    tls: { engine: new NativeTlsEngine(), server: { certificates: new CertificateStore([key]) } },
    store,
    ...options,
  };
  const mx = new SmtpServer({ ...common, role: 'mx' });
  const submission = new SmtpServer({ ...common, role: 'submission' });
  const listeners = [
    await listen(mx, false),
    await listen(submission, false),
    await listen(submission, true),
  ];
  const port = (s: Server) => (s.address() as AddressInfo).port;
  return {
    store,
    ca: key.certificateChainPem,
    ports: { mx: port(listeners[0]!), submission: port(listeners[1]!), smtps: port(listeners[2]!) },
    servers: [mx, submission],
    async close() {
      for (const l of listeners) l.close();
      await Promise.all([mx.shutdown(500), submission.shutdown(500)]);
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Reads the bytes of every message in a user's INBOX. */
export async function inbox(store: Store, user: string): Promise<Buffer[]> {
  const out: Buffer[] = [];
  for (const m of await store.mail.list(user, 'INBOX')) {
    const chunks: Buffer[] = [];
    for await (const c of await store.mail.openMessage(user, 'INBOX', m.uid)) chunks.push(c as Buffer);
    out.push(Buffer.concat(chunks));
  }
  return out;
}

/** The message without the trace fields we add (Return-Path, Received with its folded lines). */
export function withoutTrace(message: Buffer): Buffer {
  let text = message.toString('latin1');
  for (;;) {
    const m = /^(Return-Path: [^\r\n]*\r\n|Received: [^\r\n]*\r\n([ \t][^\r\n]*\r\n)*)/.exec(text);
    if (!m) break;
    text = text.slice(m[0].length);
  }
  return Buffer.from(text, 'latin1');
}

/** A line-oriented raw client that can switch to TLS. */
export class RawClient {
  private buf = '';
  private waiters: Array<() => void> = [];
  private constructor(private socket: Socket | TLSSocket) {
    this.listen(socket);
  }

  static async connect(port: number, tls = false, ca?: string): Promise<RawClient> {
    const socket = tls
      ? tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca })
      : netConnect(port, '127.0.0.1');
    await once(socket, tls ? 'secureConnect' : 'connect');
    return new RawClient(socket);
  }

  private listen(s: Socket | TLSSocket) {
    s.on('data', (d: Buffer) => {
      this.buf += d.toString('utf8');
      for (const w of this.waiters.splice(0)) w();
    });
    s.on('close', () => {
      for (const w of this.waiters.splice(0)) w();
    });
    s.on('error', () => undefined);
  }

  get closed(): boolean {
    return this.socket.destroyed || this.socket.readableEnded;
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next complete reply (all its lines), e.g. `250-a\r\n250 b`. */
  async reply(): Promise<string> {
    for (;;) {
      const m = /^((?:\d{3}-[^\n]*\n)*\d{3}(?: [^\n]*)?\r?\n)/.exec(this.buf);
      if (m) {
        this.buf = this.buf.slice(m[1]!.length);
        return m[1]!.trimEnd();
      }
      if (this.closed) throw new Error(`connection closed; unread: ${JSON.stringify(this.buf)}`);
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }

  async command(line: string): Promise<string> {
    this.write(line + '\r\n');
    return this.reply();
  }

  /** STARTTLS already answered 220: continue over TLS on the same socket. */
  async upgrade(ca: string): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    const secure = tlsConnect({ socket: plain as Socket, servername: 'localhost', ca });
    await once(secure, 'secureConnect');
    this.socket = secure;
    this.listen(secure);
  }

  /** Resolves once the server closed the connection. */
  async ended(): Promise<void> {
    while (!this.closed) await new Promise<void>((r) => this.waiters.push(r));
  }

  close(): void {
    this.socket.destroy();
  }
}
