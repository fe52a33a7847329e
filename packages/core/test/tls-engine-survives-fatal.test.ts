/**
 * A client that sends its Finished and, in the same TCP write, something fatal (a
 * ChangeCipherSpec after the handshake, a malformed KeyUpdate, an over-long record) must cost
 * only its own connection: accept() rejects or hands over a stream that has an error path, the
 * process survives, and the next handshake on the same server succeeds (issue 19, item 1).
 */
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import * as tls from 'node:tls';
import {
  CertificateStore,
  NativeTlsEngine,
  TsTlsEngine,
  generateSelfSigned,
  type CertifiedKey,
  type TlsEngine,
} from '../src/index.js';
import { defaultProvider } from '../src/crypto/default-provider.js';
import { TlsConnection } from '../src/tls/connection.js';
import { HandshakeType } from '../src/tls/constants.js';

const ENGINES: Array<[string, () => TlsEngine]> = [
  ['ts', () => new TsTlsEngine()],
  ['native', () => new NativeTlsEngine()],
];

/** Raw TLS 1.3 records, written unprotected: the server must refuse each one. */
const TRAILERS: Array<[string, (key: (type: number, body: Uint8Array) => Uint8Array) => Uint8Array]> = [
  ['a ChangeCipherSpec after the handshake', () => Uint8Array.of(20, 3, 3, 0, 1, 1)],
  [
    'a KeyUpdate with request_update 2',
    (seal) => seal(22, Uint8Array.of(HandshakeType.key_update, 0, 0, 1, 2)),
  ],
  ['an empty KeyUpdate', (seal) => seal(22, Uint8Array.of(HandshakeType.key_update, 0, 0, 0))],
  [
    'an over-long record (2^14 + 256 bytes of ciphertext + 1)',
    () => {
      const len = 2 ** 14 + 256 + 1;
      const rec = new Uint8Array(5 + len);
      rec.set([23, 3, 3, len >> 8, len & 0xff]);
      return rec;
    },
  ],
];

interface Served {
  server: Server;
  port: number;
  outcomes: Array<'stream' | 'rejected'>;
  /** Whether each stream handed over was already destroyed at that moment. */
  deadOnArrival: boolean[];
}

async function serve(engine: TlsEngine, key: CertifiedKey): Promise<Served> {
  const served: Served = { server: createServer(), port: 0, outcomes: [], deadOnArrival: [] };
  const certificates = new CertificateStore([key]);
  served.server.on('connection', (sock: Socket) => {
    sock.on('error', () => undefined);
    engine.accept(sock, { certificates, handshakeTimeoutMs: 5000 }).then(
      async (stream) => {
        served.outcomes.push('stream');
        served.deadOnArrival.push(stream.destroyed);
        // A caller that attaches its own listener a little later, as the protocol sessions do.
        await new Promise((r) => setImmediate(r));
        stream.on('error', () => undefined);
        stream.on('data', (d: Buffer) => stream.write(d));
      },
      () => served.outcomes.push('rejected'),
    );
  });
  await new Promise<void>((r) => served.server.listen(0, '127.0.0.1', r));
  served.port = (served.server.address() as AddressInfo).port;
  return served;
}

/**
 * Our sans-I/O client over a real socket; once it has its Finished to send, the trailer goes
 * in the same write. Resolves when the server closes the connection, or after a second (node:tls
 * lets some of these pass and keeps the connection).
 */
function hostileClient(port: number, trailer: (typeof TRAILERS)[number][1]): Promise<void> {
  const conn = new TlsConnection({
    role: 'client',
    provider: defaultProvider,
    client: { serverName: 'localhost', rejectUnauthorized: false, maxVersion: 'TLSv1.3' },
  });
  return new Promise((resolve) => {
    const sock = netConnect({ port, host: '127.0.0.1' });
    sock.setNoDelay(true);
    sock.on('error', () => undefined);
    sock.on('close', () => resolve());
    const timer = setTimeout(() => sock.destroy(), 1000);
    sock.on('close', () => clearTimeout(timer));
    let sent = false;
    sock.on('connect', () => {
      conn.start();
      sock.write(Buffer.concat(conn.takeOutput()));
    });
    sock.on('data', (chunk: Buffer) => {
      if (sent) return;
      conn.receive(chunk);
      const out = conn.takeOutput();
      if (!conn.isOpen) {
        if (out.length) sock.write(Buffer.concat(out));
        return;
      }
      sent = true;
      // Records under the client's application key, sealed by the connection itself.
      const seal = (type: number, body: Uint8Array) => {
        const records = (
          conn as unknown as {
            records: { protect(type: number, body: Uint8Array, out: Uint8Array[]): void };
          }
        ).records;
        const sealed: Uint8Array[] = [];
        records.protect(type, body, sealed);
        return Buffer.concat(sealed);
      };
      sock.write(Buffer.concat([...out, trailer(seal)]));
    });
  });
}

function nodeClient(port: number, ca: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = tls.connect({ port, host: '127.0.0.1', servername: 'localhost', ca }, () => {
      s.write('ping');
      s.once('data', (d) => {
        resolve(String(d));
        s.end();
      });
    });
    s.once('error', reject);
  });
}

for (const [name, makeEngine] of ENGINES) {
  describe(`TLS engine ${name}: a fatal record right after the client's Finished`, function () {
    this.timeout(20_000);
    let key: CertifiedKey;
    let served: Served;
    before(async () => {
      key = await generateSelfSigned({ hostname: 'localhost' });
      served = await serve(makeEngine(), key);
    });
    after(() => served.server.close());

    for (const [what, trailer] of TRAILERS) {
      it(`survives ${what} and serves the next client`, async () => {
        const before = served.outcomes.length;
        await hostileClient(served.port, trailer);
        // Give the server's callbacks a turn: a crash would surface here as an uncaught error.
        await new Promise((r) => setTimeout(r, 50));
        assert.equal(served.outcomes.length, before + 1, 'accept() settled');
        assert.equal(await nodeClient(served.port, key.certificateChainPem), 'ping');
      });
    }

    it('never hands over a stream that is already destroyed', () => {
      assert.ok(served.outcomes.length >= TRAILERS.length);
      assert.deepEqual(
        served.deadOnArrival.filter((dead) => dead),
        [],
      );
    });
  });
}
