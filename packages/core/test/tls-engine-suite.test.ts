/**
 * One suite, every engine: what the protocols rely on, checked against node:tls peers.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import * as tls from 'node:tls';
import {
  CertificateStore,
  LineChannel,
  MemorySessionCache,
  NativeTlsEngine,
  TsTlsEngine,
  generateSelfSigned,
  type CertifiedKey,
  type TlsEngine,
  type TlsStream,
} from '../src/index.js';

const ENGINES: Array<[string, () => TlsEngine]> = [
  ['native', () => new NativeTlsEngine()],
  ['ts (default crypto)', () => new TsTlsEngine()],
  ['ts (noble crypto)', () => new TsTlsEngine({ crypto: 'noble' })],
];

async function listen(onSocket: (s: Socket) => void): Promise<{ port: number; close(): void }> {
  const server = createServer(onSocket);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { port: (server.address() as AddressInfo).port, close: () => server.close() };
}

function nodeClient(
  port: number,
  ca: string,
  servername = 'localhost',
  extra: tls.ConnectionOptions = {},
): Promise<tls.TLSSocket> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername, ca, ...extra }, () => resolve(s));
    s.once('error', reject);
  });
}

async function readAll(stream: NodeJS.ReadableStream): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}

for (const [name, makeEngine] of ENGINES) {
  describe(`TLS engine contract: ${name}`, function () {
    this.timeout(20_000);
    let a: CertifiedKey;
    let b: CertifiedKey;
    before(async () => {
      a = await generateSelfSigned({ hostname: 'a.example.test' });
      b = await generateSelfSigned({ hostname: 'localhost', altNames: ['*.wild.test'] });
    });

    it('accepts a node:tls client, fills the session facts, and carries 1 MiB each way', async () => {
      const engine = makeEngine();
      let session: TlsStream['session'] | undefined;
      const srv = await listen(async (socket) => {
        const s = await engine.accept(socket, { certificates: new CertificateStore([b]) });
        session = s.session;
        let received = 0;
        s.on('data', (d: Buffer) => {
          received += d.length;
          if (received === 1024 * 1024)
            s.end(Buffer.concat([Buffer.from(`${received}:`), Buffer.alloc(received, 'r')]));
        });
      });
      try {
        const c = await nodeClient(srv.port, b.certificateChainPem);
        const payload = Buffer.alloc(1024 * 1024, 'q');
        c.write(payload);
        const back = await readAll(c);
        assert.equal(back.toString('latin1', 0, 8), `${payload.length}:`);
        assert.equal(back.length, payload.length + 8);
        assert.equal(back.subarray(8).toString('latin1'), 'r'.repeat(payload.length));
        assert.equal(session?.version, 'TLSv1.3');
        assert.match(
          session?.cipherSuite ?? '',
          /^TLS_(AES_128_GCM_SHA256|AES_256_GCM_SHA384|CHACHA20_POLY1305_SHA256)$/,
        );
        assert.equal(session?.serverName, 'localhost');
      } finally {
        srv.close();
      }
    });

    it('selects the certificate by SNI: exact name, wildcard, else the default', async () => {
      const engine = makeEngine();
      const srv = await listen(async (socket) => {
        const s = await engine
          .accept(socket, { certificates: new CertificateStore([a, b]) })
          .catch(() => undefined);
        s?.end('x');
      });
      try {
        for (const [sni, expectCn, ca] of [
          ['a.example.test', 'a.example.test', a],
          ['x.wild.test', 'localhost', b],
          ['unknown.test', 'a.example.test', a],
        ] as const) {
          const c = await nodeClient(srv.port, ca.certificateChainPem, sni, {
            checkServerIdentity: () => undefined,
          });
          assert.match(
            String(c.getPeerCertificate().subject.CN),
            new RegExp(expectCn.replace(/\./g, '\\.')),
            sni,
          );
          c.destroy();
        }
      } finally {
        srv.close();
      }
    });

    it('connects to a node:tls server, verifying the chain and the name', async () => {
      const engine = makeEngine();
      const server = tls.createServer(
        { key: b.privateKeyPem, cert: b.certificateChainPem, ALPNProtocols: ['smtp'] },
        (s) => s.end('from node'),
      );
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as AddressInfo).port;
      const dial = async () => {
        const sock = netConnect(port, '127.0.0.1');
        await once(sock, 'connect');
        return sock;
      };
      try {
        const ok = await engine.connect(await dial(), {
          serverName: 'localhost',
          ca: b.certificateChainPem,
          alpnProtocols: ['smtp'],
        });
        assert.equal(ok.session.peerVerified, true);
        assert.equal(ok.session.alpnProtocol, 'smtp');
        assert.equal(ok.session.peerCertificates.length, 1);
        assert.equal((await readAll(ok)).toString(), 'from node');
        await assert.rejects(
          engine.connect(await dial(), { serverName: 'other.test', ca: b.certificateChainPem }),
        );
        await assert.rejects(
          engine.connect(await dial(), { serverName: 'localhost', ca: a.certificateChainPem }),
        );
        const lax = await engine.connect(await dial(), {
          serverName: 'other.test',
          ca: b.certificateChainPem,
          rejectUnauthorized: false,
        });
        assert.equal(lax.session.peerVerified, false);
        assert.ok(lax.session.verificationError);
        lax.destroy();
      } finally {
        server.close();
      }
    });

    it('agrees with node:tls on exported keying material (RFC 8446 §7.5)', async () => {
      const engine = makeEngine();
      let ours: Buffer | undefined;
      const srv = await listen(async (socket) => {
        const s = await engine.accept(socket, { certificates: new CertificateStore([b]) });
        ours = s.exportKeyingMaterial(32, 'EXPORTER-postern-test', Buffer.from('ctx'));
        s.end('done');
      });
      try {
        const c = await nodeClient(srv.port, b.certificateChainPem);
        const theirs = c.exportKeyingMaterial(32, 'EXPORTER-postern-test', Buffer.from('ctx'));
        await readAll(c);
        assert.equal(ours?.toString('hex'), theirs.toString('hex'));
      } finally {
        srv.close();
      }
    });

    it('serves STARTTLS through LineChannel.upgrade, dropping the pipelined plaintext', async () => {
      const engine = makeEngine();
      const lines: string[] = [];
      let discarded = -1;
      const srv = await listen(async (socket) => {
        const ch = new LineChannel(socket);
        lines.push(await ch.readLine());
        const r = await ch.upgrade(
          engine,
          { role: 'server', certificates: new CertificateStore([b]) },
          'OK go ahead\r\n',
        );
        discarded = r.discardedBytes;
        lines.push(await ch.readLine());
        await ch.write('bye\r\n');
        await ch.close();
      });
      try {
        const raw = netConnect(srv.port, '127.0.0.1');
        await once(raw, 'connect');
        raw.write('STARTTLS\r\nINJECTED COMMAND\r\n');
        await new Promise<void>((resolve) => raw.once('data', () => resolve()));
        const c = tls.connect({ socket: raw, servername: 'localhost', ca: b.certificateChainPem });
        await once(c, 'secureConnect');
        c.write('AFTER TLS\r\n');
        assert.equal((await readAll(c)).toString(), 'bye\r\n');
        assert.deepEqual(lines, ['STARTTLS', 'AFTER TLS']);
        assert.equal(discarded, 'INJECTED COMMAND\r\n'.length);
      } finally {
        srv.close();
      }
    });

    it('writes NSS key-log lines when asked', async () => {
      const engine = makeEngine();
      const log: string[] = [];
      const srv = await listen(async (socket) => {
        const s = await engine.accept(socket, {
          certificates: new CertificateStore([b]),
          keyLog: (l) => log.push(l),
        });
        s.end('k');
      });
      try {
        const c = await nodeClient(srv.port, b.certificateChainPem);
        await readAll(c);
        for (const label of [
          'CLIENT_HANDSHAKE_TRAFFIC_SECRET',
          'SERVER_HANDSHAKE_TRAFFIC_SECRET',
          'CLIENT_TRAFFIC_SECRET_0',
          'SERVER_TRAFFIC_SECRET_0',
        ]) {
          assert.ok(
            log.some((l) => new RegExp(`^${label} [0-9a-f]{64} [0-9a-f]{64,96}$`).test(l)),
            label,
          );
        }
      } finally {
        srv.close();
      }
    });

    it('fails the handshake with an error (not a hang) when the peer speaks garbage', async () => {
      const engine = makeEngine();
      let failure: unknown;
      const srv = await listen(async (socket) => {
        await engine.accept(socket, { certificates: new CertificateStore([b]) }).catch((e) => (failure = e));
      });
      try {
        const raw = netConnect(srv.port, '127.0.0.1');
        raw.on('error', () => undefined);
        raw.resume();
        await once(raw, 'connect');
        raw.write('GET / HTTP/1.0\r\n\r\n');
        await once(raw, 'close');
        assert.ok(failure instanceof Error);
      } finally {
        srv.close();
      }
    });
    it('gives up on a silent peer after the handshake timeout, with a TlsAlertError', async () => {
      const engine = makeEngine();
      let failure: unknown;
      let settled!: () => void;
      const done = new Promise<void>((r) => (settled = r));
      const srv = await listen(async (socket) => {
        await engine
          .accept(socket, { certificates: new CertificateStore([b]), handshakeTimeoutMs: 50 })
          .catch((e) => (failure = e));
        settled();
      });
      try {
        const raw = netConnect(srv.port, '127.0.0.1');
        raw.on('error', () => undefined);
        raw.resume();
        await once(raw, 'connect');
        // Say nothing: only the timeout can end this handshake.
        await done;
        await once(raw, 'close');
        assert.ok(failure instanceof Error);
        assert.equal((failure as { alert?: string }).alert, 'handshake_timeout');
      } finally {
        srv.close();
      }
    });

    it('a node:tls client resumes its TLS 1.3 session: isSessionReused, session.resumed, ALPN and SNI kept', async () => {
      const engine = makeEngine();
      const sessions: TlsStream['session'][] = [];
      const srv = await listen(async (socket) => {
        const s = await engine.accept(socket, {
          certificates: new CertificateStore([b]),
          alpnProtocols: ['smtp'],
        });
        sessions.push(s.session);
        s.end(`resumed=${s.session.resumed}`);
      });
      try {
        const first = await nodeClient(srv.port, b.certificateChainPem, 'localhost', {
          ALPNProtocols: ['smtp'],
        });
        assert.equal(first.isSessionReused(), false);
        const ticket = once(first, 'session');
        assert.equal((await readAll(first)).toString(), 'resumed=false');
        const [session] = (await ticket) as [Buffer];
        const second = await nodeClient(srv.port, b.certificateChainPem, 'localhost', {
          ALPNProtocols: ['smtp'],
          session,
        });
        assert.equal(second.isSessionReused(), true);
        assert.equal(second.getProtocol(), 'TLSv1.3');
        assert.equal(second.alpnProtocol, 'smtp');
        assert.equal((await readAll(second)).toString(), 'resumed=true');
        assert.deepEqual(
          sessions.map((x) => [x.resumed, x.alpnProtocol, x.serverName]),
          [
            [false, 'smtp', 'localhost'],
            [true, 'smtp', 'localhost'],
          ],
        );
      } finally {
        srv.close();
      }
    });

    it('a TsTlsEngine client with a session cache resumes against it, keeping the verified peer facts', async () => {
      const engine = makeEngine();
      const served: boolean[] = [];
      const srv = await listen(async (socket) => {
        const s = await engine.accept(socket, { certificates: new CertificateStore([b]) });
        served.push(s.session.resumed);
        s.end('hi');
      });
      try {
        const cache = new MemorySessionCache();
        const sessions: TlsStream['session'][] = [];
        for (let i = 0; i < 2; i++) {
          const sock = netConnect(srv.port, '127.0.0.1');
          await once(sock, 'connect');
          const c = await new TsTlsEngine().connect(sock, {
            serverName: 'localhost',
            ca: b.certificateChainPem,
            sessionCache: cache,
          });
          sessions.push(c.session);
          assert.equal((await readAll(c)).toString(), 'hi');
        }
        assert.deepEqual(
          sessions.map((x) => x.resumed),
          [false, true],
        );
        assert.deepEqual(served, [false, true]);
        assert.equal(sessions[1]!.peerVerified, true);
        assert.deepEqual(sessions[1]!.peerCertificates, sessions[0]!.peerCertificates);
        assert.equal(sessions[1]!.serverName, 'localhost');
      } finally {
        srv.close();
      }
    });
  });
}
