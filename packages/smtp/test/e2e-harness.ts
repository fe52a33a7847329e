/**
 * End-to-end harness: an SmtpServer on 127.0.0.1 port 0 (plain/STARTTLS and implicit TLS
 * listeners) over an fs store in a temporary directory, a self-signed 'localhost' certificate,
 * and a raw line client that can upgrade to TLS. Every handleConnection promise is kept so a
 * test can wait until the server is done with its connections (no timing involved).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, connect as netConnect, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import {
  CertificateStore,
  generateSelfSigned,
  NativeTlsEngine,
  type Logger,
  type TlsEngine,
} from '@postern/core';
import { openFsStore, type Store } from '@postern/store';
import { SmtpServer, type CapturedMail } from '../src/index.js';

export type SmtpServerOptions = ConstructorParameters<typeof SmtpServer>[0];

export const DOMAIN = 'example.org';
export const ALICE = 'alice@example.org';
export const BOB = 'bob@example.org';
export const ALICE_PW = 'alice correct horse';
export const BOB_PW = 'b0b-Secret!';

let certPromise: ReturnType<typeof generateSelfSigned> | undefined;
function testCertificate(): ReturnType<typeof generateSelfSigned> {
  certPromise ??= generateSelfSigned({ hostname: 'localhost' });
  return certPromise;
}

export interface Harness {
  store: Store;
  server: SmtpServer;
  /** Plaintext listener (STARTTLS available). */
  port: number;
  /** Implicit TLS listener (RFC 8314). */
  tlsPort: number;
  /** PEM of the self-signed certificate, to trust. */
  ca: string;
  /** A file holding `ca`, for external programs. */
  caFile: string;
  dir: string;
  captured: CapturedMail[];
  /** Resolves when every connection accepted so far has been fully handled. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

export type HarnessOptions = Partial<Omit<SmtpServerOptions, 'store' | 'tls' | 'hostname'>> & {
  logger?: Logger;
  /** Wrap the store the server sees (failure injection); the harness keeps the real one. */
  wrapStore?: (store: Store) => Store;
  /** The server's TLS engine (default NativeTlsEngine). */
  engine?: TlsEngine;
};

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const cert = await testCertificate();
  const dir = await mkdtemp(join(tmpdir(), 'postern-smtp-e2e-'));
  const store = await openFsStore(join(dir, 'store'), { domains: [DOMAIN] });
  await store.accounts.addUser(ALICE, ALICE_PW);
  await store.accounts.addUser(BOB, BOB_PW);
  const caFile = join(dir, 'ca.pem');
  await writeFile(caFile, cert.certificateChainPem);
  const captured: CapturedMail[] = [];
  const { wrapStore, engine, ...rest } = options;
  const server = new SmtpServer({
    hostname: 'mx.example.org',
    tls: { engine: engine ?? new NativeTlsEngine(), server: { certificates: new CertificateStore([cert]) } },
    store: wrapStore ? wrapStore(store) : store,
    role: 'mx',
    relay: 'queue',
    capture: async (mail: CapturedMail) => {
      captured.push(mail);
    },
    ...rest,
  } as SmtpServerOptions);
  const handled = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const accept = (implicitTls: boolean) => (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handled.add(server.handleConnection(socket, { implicitTls }));
  };
  const plain = createServer(accept(false));
  const secure = createServer(accept(true));
  const port = await listen(plain);
  const tlsPort = await listen(secure);
  return {
    store,
    server,
    port,
    tlsPort,
    ca: cert.certificateChainPem,
    caFile,
    dir,
    captured,
    async settled() {
      await Promise.all(handled);
    },
    async close() {
      plain.close();
      secure.close();
      await server.shutdown(2000);
      for (const s of sockets) s.destroy();
      await Promise.all(handled);
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** Every message in a user's INBOX, in UID order, as stored. */
export async function inbox(store: Store, user: string): Promise<Buffer[]> {
  const metas = await store.mail.list(user, 'INBOX');
  const out: Buffer[] = [];
  for (const m of metas) {
    const chunks: Buffer[] = [];
    for await (const c of await store.mail.openMessage(user, 'INBOX', m.uid)) chunks.push(c as Buffer);
    out.push(Buffer.concat(chunks));
  }
  return out;
}

/**
 * Splits a stored message into the header fields the server added in front of `original` and
 * checks that the rest is `original` byte for byte. Returns the added text.
 */
export function addedPrefix(stored: Buffer, original: Buffer): string {
  if (stored.length < original.length || !stored.subarray(stored.length - original.length).equals(original)) {
    throw new Error(
      `stored message does not end with the original (${stored.length} vs ${original.length} octets)`,
    );
  }
  return stored.subarray(0, stored.length - original.length).toString('utf8');
}

export interface Reply {
  code: number;
  /** Lines without the code and separator. */
  lines: string[];
  /** The whole reply as received, CRLFs included. */
  raw: string;
}

/**
 * A raw SMTP client: writes exactly what the test says and parses replies (RFC 5321 §4.2),
 * so pipelining and injection can be tested byte for byte.
 */
export class RawClient {
  private buffer = '';
  private waiting: (() => void) | undefined;
  private ended = false;
  socket: Socket | TLSSocket;

  private constructor(socket: Socket) {
    this.socket = socket;
    this.attach(socket);
  }

  private attach(socket: Socket | TLSSocket): void {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('utf8');
      this.wake();
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  static async connect(
    port: number,
    options: { implicitTls?: boolean; ca?: string; localAddress?: string } = {},
  ): Promise<RawClient> {
    if (options.implicitTls) {
      const s = tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca: options.ca });
      await new Promise<void>((resolve, reject) => {
        s.once('secureConnect', resolve);
        s.once('error', reject);
      });
      return new RawClient(s);
    }
    const s = netConnect({ host: '127.0.0.1', port, localAddress: options.localAddress });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', resolve);
      s.once('error', reject);
    });
    return new RawClient(s);
  }

  write(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** The next complete reply; rejects if the connection closes first. */
  async reply(): Promise<Reply> {
    for (;;) {
      const m =
        /^(?:(\d{3})-[^\r\n]*\r\n)*(\d{3}) [^\r\n]*\r\n/.exec(this.buffer) ??
        /^(\d{3})\r\n/.exec(this.buffer);
      if (m) {
        const raw = m[0];
        this.buffer = this.buffer.slice(raw.length);
        const lines = raw
          .split('\r\n')
          .filter(Boolean)
          .map((l) => l.slice(4));
        return { code: Number(raw.slice(0, 3)), lines, raw };
      }
      if (this.ended) throw new Error(`connection closed; unparsed: ${JSON.stringify(this.buffer)}`);
      await new Promise<void>((r) => (this.waiting = r));
    }
  }

  /** Sends one command line and returns its reply. */
  async command(line: string): Promise<Reply> {
    this.write(`${line}\r\n`);
    return this.reply();
  }

  /** Resolves when the server has closed the connection; returns what was left unread. */
  async closed(): Promise<string> {
    while (!this.ended) await new Promise<void>((r) => (this.waiting = r));
    return this.buffer;
  }

  /** Everything received and not yet parsed (for checks that nothing more came). */
  get pending(): string {
    return this.buffer;
  }

  /** STARTTLS already answered 220: hand the socket to TLS, keeping nothing buffered. */
  async upgrade(ca: string): Promise<void> {
    const plain = this.socket;
    plain.removeAllListeners('data');
    plain.removeAllListeners('close');
    const s = tlsConnect({ socket: plain as Socket, servername: 'localhost', ca });
    await new Promise<void>((resolve, reject) => {
      s.once('secureConnect', resolve);
      s.once('error', reject);
    });
    this.socket = s;
    this.attach(s);
  }

  /** EHLO, STARTTLS, TLS handshake, EHLO again; returns the second EHLO's reply. */
  async startTls(ca: string, name = 'client.example.net'): Promise<Reply> {
    await this.command(`EHLO ${name}`);
    const r = await this.command('STARTTLS');
    if (r.code !== 220) throw new Error(`STARTTLS refused: ${r.raw}`);
    await this.upgrade(ca);
    return this.command(`EHLO ${name}`);
  }

  /** AUTH PLAIN with an initial response. */
  auth(user: string, password: string): Promise<Reply> {
    return this.command(`AUTH PLAIN ${Buffer.from(`\0${user}\0${password}`).toString('base64')}`);
  }

  end(): void {
    this.socket.end();
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A message with CRLF line endings. */
export function message(headers: Record<string, string>, body: string): Buffer {
  const head = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return Buffer.from(`${head}\r\n${body}`, 'utf8');
}
