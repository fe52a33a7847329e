/**
 * A Pop3Server on 127.0.0.1 port 0 over the memory store, with a self-signed 'localhost'
 * certificate, for the tests. Every connection's handleConnection promise is kept so a test can
 * wait until the server has finished with a connection (no timing involved).
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  CertificateStore,
  generateSelfSigned,
  NativeTlsEngine,
  type Logger,
  type TlsEngine,
} from '@postern/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore, openStore, type Store } from '@postern/store';
import { Pop3Server, type Pop3ServerOptions } from '../src/index.js';

export const DOMAIN = 'example.org';
export const ALICE = 'alice@example.org';
export const BOB = 'bob@example.org';
export const ALICE_PW = 'alice correct horse';
export const BOB_PW = 'b0b-Secret!';

let certPromise: ReturnType<typeof generateSelfSigned> | undefined;
export function testCertificate(): ReturnType<typeof generateSelfSigned> {
  certPromise ??= generateSelfSigned({ hostname: 'localhost' });
  return certPromise;
}

export interface Harness {
  store: Store;
  server: Pop3Server;
  /** STLS listener. */
  port: number;
  /** Implicit TLS listener (pop3s). */
  tlsPort: number;
  /** The CA to trust: the self-signed certificate itself. */
  ca: string;
  /** Resolves when every connection accepted so far has been fully handled. */
  settled(): Promise<void>;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

export interface HarnessOptions extends Partial<Omit<Pop3ServerOptions, 'store' | 'tls' | 'hostname'>> {
  logger?: Logger;
  /** Wrap the store (failure injection). */
  wrapStore?: (store: Store) => Store;
  /** Which store backend: memory (default) or fs in a temporary directory. */
  backend?: Backend;
  /** TLS engine; default NativeTlsEngine. */
  engine?: TlsEngine;
}

export type Backend = 'fs' | 'memory';

/** The backend the suites use unless a test asks for one (POP3_TEST_BACKEND overrides). */
export const DEFAULT_BACKEND: Backend = process.env.POP3_TEST_BACKEND === 'fs' ? 'fs' : 'memory';

async function openBackend(backend: Backend): Promise<{ store: Store; cleanup: () => Promise<void> }> {
  if (backend === 'memory') {
    const store = await openStore('memory', { dataDir: '', domains: [DOMAIN] });
    return { store, cleanup: () => store.close() };
  }
  const dir = await mkdtemp(join(tmpdir(), 'postern-pop3-store-'));
  const store = await openFsStore(dir, { domains: [DOMAIN] });
  return {
    store,
    cleanup: async () => {
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export async function startHarness(options: HarnessOptions = {}): Promise<Harness> {
  const cert = await testCertificate();
  const { store: base, cleanup } = await openBackend(options.backend ?? DEFAULT_BACKEND);
  await base.accounts.addUser(ALICE, ALICE_PW);
  await base.accounts.addUser(BOB, BOB_PW);
  const store = options.wrapStore ? options.wrapStore(base) : base;
  const { wrapStore: _wrap, backend: _backend, engine, ...rest } = options;
  const server = new Pop3Server({
    hostname: 'pop.example.org',
    tls: { engine: engine ?? new NativeTlsEngine(), server: { certificates: new CertificateStore([cert]) } },
    ...rest,
    store,
  });
  const handled = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const accept = (implicitTls: boolean) => (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const p = server.handleConnection(socket, { implicitTls });
    handled.add(p);
  };
  const plain = createServer(accept(false));
  const secure = createServer(accept(true));
  const port = await listen(plain);
  const tlsPort = await listen(secure);
  return {
    store: base,
    server,
    port,
    tlsPort,
    ca: cert.certificateChainPem,
    async settled() {
      await Promise.all(handled);
    },
    async close() {
      plain.close();
      secure.close();
      await server.shutdown(2000);
      for (const s of sockets) s.destroy();
      await Promise.all(handled);
      await cleanup();
    },
  };
}

/** Messages exercising byte-stuffing and 8-bit content; CRLF throughout as the store keeps them. */
export const MESSAGES = {
  plain: 'From: bob@example.org\r\nTo: alice@example.org\r\nSubject: hello\r\n\r\nHello Alice.\r\n',
  dotty: [
    'From: bob@example.org',
    'To: alice@example.org',
    'Subject: dots',
    '',
    '.a line starting with a dot',
    '.',
    '..two dots',
    'a line with a . in it',
    '. ',
    'caf\u00e9 8-bit',
    '',
    'last line',
    '',
  ].join('\r\n'),
  bob: "From: carol@example.org\r\nTo: bob@example.org\r\nSubject: for bob only\r\n\r\nBob's secret.\r\n",
};

/** Log lines captured as JSON strings, to check that no secret is ever logged. */
export function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const log =
      (level: string) =>
      (objOrMsg: object | string, msg?: string): void => {
        lines.push(
          JSON.stringify({
            level,
            ...bindings,
            ...(typeof objOrMsg === 'string' ? { msg: objOrMsg } : { ...objOrMsg, msg }),
          }),
        );
      };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return { logger: make({}), lines };
}
