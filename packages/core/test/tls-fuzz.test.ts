/**
 * Hostile input for both state machines (fast-check): truncated, overlong, duplicated,
 * mutated and random handshake and record bytes. Every run must end in one of two ways: the
 * connection still waits for more bytes, or it reported a fatal alert and stopped — never an
 * exception escaping, never unbounded buffering.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CertificateStore, generateSelfSigned, type CertifiedKey } from '../src/index.js';
import { TlsConnection, type TlsEvent } from '../src/tls/connection.js';
import { defaultProvider } from '../src/crypto/default-provider.js';

function server(key: CertifiedKey) {
  return new TlsConnection({ role: 'server', provider: defaultProvider, server: { certificates: new CertificateStore([key]) } });
}
function client(key: CertifiedKey) {
  return new TlsConnection({ role: 'client', provider: defaultProvider, client: { serverName: 'localhost', ca: key.certificateChainPem, rejectUnauthorized: true } });
}

/** Feeds chunks; returns the events. Throws only if the connection itself threw. */
function feed(conn: TlsConnection, chunks: Uint8Array[]): TlsEvent[] {
  const events: TlsEvent[] = [];
  for (const c of chunks) {
    conn.receive(c);
    events.push(...conn.takeEvents());
    conn.takeOutput();
  }
  return events;
}

function assertSane(conn: TlsConnection, events: TlsEvent[]) {
  const fatal = events.filter((e) => e.type === 'fatal');
  assert.ok(fatal.length <= 1, 'at most one fatal event');
  // Before a handshake completes, buffered input is bounded by one record plus one message.
  const internals = conn as unknown as { records: { bufferedBytes: number }; handshakeBuffer: Uint8Array };
  assert.ok(internals.records.bufferedBytes <= 5 + 16384 + 256 + 5, `record buffer ${internals.records.bufferedBytes}`);
  assert.ok(internals.handshakeBuffer.length <= 64 * 1024 + 4, 'handshake buffer bounded');
}

describe('TLS state machines under hostile input (fast-check)', function () {
  this.timeout(120_000);
  let key: CertifiedKey;
  /** A real ClientHello and a real server flight to mutate. */
  let clientHello: Uint8Array;
  let serverFlight: Uint8Array[];
  before(async () => {
    key = await generateSelfSigned({ hostname: 'localhost' });
    const c = client(key);
    c.start();
    clientHello = Buffer.concat(c.takeOutput());
    const s = server(key);
    s.receive(clientHello);
    serverFlight = s.takeOutput();
  });

  it('the server survives random bytes, split anywhere', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { maxLength: 8 }), (chunks) => {
        const s = server(key);
        assertSane(s, feed(s, chunks));
      }),
      { numRuns: 300 },
    );
  });

  it('the server survives mutated, truncated and duplicated ClientHellos', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { maxLength: 6 }),
        fc.nat(),
        fc.boolean(),
        (mutations, cut, duplicate) => {
          const msg = Uint8Array.from(clientHello);
          for (const m of mutations) msg[m.at % msg.length] = m.value;
          const truncated = msg.subarray(0, Math.max(1, msg.length - (cut % 40)));
          const chunks = duplicate ? [truncated, truncated] : [truncated];
          const s = server(key);
          assertSane(s, feed(s, chunks));
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the client survives a mutated server flight, record by record', () => {
    fc.assert(
      fc.property(fc.nat({ max: 20 }), fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), { minLength: 1, maxLength: 4 }), (which, mutations) => {
        const c = client(key);
        c.start();
        c.takeOutput();
        const flight = serverFlight.map((r) => Uint8Array.from(r));
        const target = flight[which % flight.length]!;
        for (const m of mutations) target[m.at % target.length] = m.value;
        const events = feed(c, flight);
        assertSane(c, events);
        // A mutated flight can never yield an authenticated connection.
        const changed = flight.some((r, i) => Buffer.compare(Buffer.from(r), Buffer.from(serverFlight[i]!)) !== 0);
        if (changed) assert.ok(!events.some((e) => e.type === 'established'), 'tampering detected');
      }),
      { numRuns: 300 },
    );
  });

  it('refuses an oversized handshake message with an alert instead of buffering it', () => {
    const s = server(key);
    // One full record whose handshake header announces a 1 MiB ClientHello.
    const record = new Uint8Array(5 + 16384);
    record.set([22, 3, 1, 0x40, 0x00, 1, 0x10, 0x00, 0x00]);
    const events = feed(s, [record]);
    assert.equal(events.find((e) => e.type === 'fatal')?.type, 'fatal');
  });

  it('stops after a fatal alert: later input is ignored', () => {
    const s = server(key);
    feed(s, [Uint8Array.of(99, 3, 3, 0, 1, 0)]);
    assert.deepEqual(feed(s, [clientHello]), []);
  });
});
