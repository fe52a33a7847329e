/**
 * The `native` engine honours the session options it documents (issue 19, item 15): a server's
 * `sessionTickets: false` resumes nothing; a client's `sessionCache` keeps
 * node:tls sessions and resumes from them, against node:tls and against our own server.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import * as tls from 'node:tls';
import {
  CertificateStore,
  MemorySessionCache,
  NativeTlsEngine,
  TsTlsEngine,
  generateSelfSigned,
  type CertifiedKey,
  type TlsEngine,
  type TlsServerOptions,
} from '../src/index.js';

async function listen(onSocket: (s: Socket) => void): Promise<{ port: number; close(): void }> {
  const server = createServer(onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

/** A server that answers each connection with whether it resumed, then closes. */
function serve(engine: TlsEngine, options: TlsServerOptions) {
  return listen((socket) => {
    socket.on('error', () => undefined);
    engine.accept(socket, options).then(
      (s) => s.end(`resumed=${s.session.resumed}`),
      () => socket.destroy(),
    );
  });
}

/** A node:tls client: the server's answer and the sessions (tickets) it was given. */
function nodeClient(port: number, ca: string, session?: Buffer) {
  return new Promise<{ text: string; reused: boolean; sessions: Buffer[] }>((resolve, reject) => {
    const sessions: Buffer[] = [];
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca, session });
    s.on('session', (b: Buffer) => sessions.push(b));
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.on('end', () => resolve({ text, reused: s.isSessionReused(), sessions }));
    s.once('error', reject);
  });
}

describe('native engine: session tickets and the client session cache', function () {
  this.timeout(20_000);
  let key: CertifiedKey;
  before(async () => {
    key = await generateSelfSigned({ hostname: 'localhost' });
  });

  it('a server with sessionTickets: false resumes nothing, neither its own sessions nor those of another context', async () => {
    const engine = new NativeTlsEngine();
    const certificates = new CertificateStore([key]);
    const withTickets = await serve(engine, { certificates });
    const without = await serve(engine, { certificates, sessionTickets: false });
    try {
      // A session earned from the same engine and certificate with tickets on...
      const first = await nodeClient(withTickets.port, key.certificateChainPem);
      assert.ok(first.sessions.length > 0, 'tickets are on by default');
      // ...is not resumed by the server that has them off, and that server issues none.
      const second = await nodeClient(without.port, key.certificateChainPem, first.sessions.at(-1));
      assert.equal(second.text, 'resumed=false');
      assert.equal(second.reused, false);
      // OpenSSL still sends TLS 1.3 tickets in stateful form (node exposes no num_tickets), but
      // with no session cache behind a bare TLSSocket none of them resumes.
      for (const session of second.sessions) {
        const third = await nodeClient(without.port, key.certificateChainPem, session);
        assert.equal(third.text, 'resumed=false');
      }
    } finally {
      withTickets.close();
      without.close();
    }
  });

  for (const [name, server] of [
    ['node:tls (native engine)', () => new NativeTlsEngine()],
    ['our ts engine', () => new TsTlsEngine()],
  ] as const) {
    it(`a client with a sessionCache resumes against ${name}, keeping the verified peer facts`, async () => {
      const srv = await serve(server(), { certificates: new CertificateStore([key]) });
      try {
        const cache = new MemorySessionCache();
        const answers: string[] = [];
        const sessions = [];
        for (let i = 0; i < 2; i++) {
          const sock = netConnect(srv.port, '127.0.0.1');
          await once(sock, 'connect');
          const c = await new NativeTlsEngine().connect(sock, {
            serverName: 'localhost',
            ca: key.certificateChainPem,
            sessionCache: cache,
          });
          sessions.push(c.session);
          let text = '';
          for await (const d of c) text += String(d);
          answers.push(text);
        }
        assert.deepEqual(answers, ['resumed=false', 'resumed=true']);
        assert.deepEqual(
          sessions.map((s) => s.resumed),
          [false, true],
        );
        assert.equal(sessions[1]!.peerVerified, true);
      } finally {
        srv.close();
      }
    });
  }

  it('a ts client passes over the native sessions in its cache (and the reverse), with a full handshake', async () => {
    const srv = await serve(new TsTlsEngine(), { certificates: new CertificateStore([key]) });
    try {
      const cache = new MemorySessionCache();
      const engines = [new NativeTlsEngine(), new TsTlsEngine(), new NativeTlsEngine()];
      const answers: string[] = [];
      for (const engine of engines) {
        const sock = netConnect(srv.port, '127.0.0.1');
        await once(sock, 'connect');
        const c = await engine.connect(sock, {
          serverName: 'localhost',
          ca: key.certificateChainPem,
          sessionCache: cache,
        });
        let text = '';
        for await (const d of c) text += String(d);
        answers.push(text);
      }
      assert.deepEqual(answers, ['resumed=false', 'resumed=false', 'resumed=false']);
    } finally {
      srv.close();
    }
  });
});
