/**
 * Hostile input for both state machines (fast-check): truncated, overlong, duplicated,
 * mutated and random handshake and record bytes. Every run must end in one of two ways: the
 * connection still waits for more bytes, or it reported a fatal alert and stopped — never an
 * exception escaping, never unbounded buffering.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { CertificateStore, generateSelfSigned, type CertifiedKey } from '../src/index.js';
import { TlsConnection, type TlsEvent } from '../src/tls/connection.js';
import { defaultProvider } from '../src/crypto/default-provider.js';
import type { TlsVersion } from '../src/tls/engine.js';
import {
  decodeClientHello,
  decodeServerHello,
  encodeClientHello,
  encodeNewSessionTicket,
  type Extension,
} from '../src/tls/messages.js';
import { MemorySessionCache } from '../src/tls/session-cache.js';

const mutation = fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) });

function server(key: CertifiedKey, minVersion: TlsVersion = 'TLSv1.3', seed?: string) {
  return new TlsConnection({
    role: 'server',
    provider: defaultProvider,
    random: seed ? seeded(seed) : undefined,
    server: { certificates: new CertificateStore([key]), minVersion },
  });
}

/** Fixed randomness, so a recorded client flight fits a fresh server. */
function seeded(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32)
      out.set(
        createHash('sha256')
          .update(`${seed}:${counter++}`)
          .digest()
          .subarray(0, Math.min(32, n - off)),
        off,
      );
    return out;
  };
}
function client(key: CertifiedKey, maxVersion: TlsVersion = 'TLSv1.3') {
  return new TlsConnection({
    role: 'client',
    provider: defaultProvider,
    client: {
      serverName: 'localhost',
      ca: key.certificateChainPem,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      maxVersion,
    },
  });
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
  assert.ok(
    internals.records.bufferedBytes <= 5 + 16384 + 256 + 5,
    `record buffer ${internals.records.bufferedBytes}`,
  );
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
      fc.property(
        fc.nat({ max: 20 }),
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        (which, mutations) => {
          const c = client(key);
          c.start();
          c.takeOutput();
          const flight = serverFlight.map((r) => Uint8Array.from(r));
          const target = flight[which % flight.length]!;
          for (const m of mutations) target[m.at % target.length] = m.value;
          const events = feed(c, flight);
          assertSane(c, events);
          // A mutated flight can never yield an authenticated connection.
          const changed = flight.some(
            (r, i) => Buffer.compare(Buffer.from(r), Buffer.from(serverFlight[i]!)) !== 0,
          );
          if (changed) assert.ok(!events.some((e) => e.type === 'established'), 'tampering detected');
        },
      ),
      { numRuns: 300 },
    );
  });

  describe('TLS 1.2 states', () => {
    /** A real TLS 1.2 exchange, recorded flight by flight. */
    let hello12: Uint8Array;
    let serverFlight12: Uint8Array[];
    let clientFlight12: Uint8Array[];
    /** Ed25519 signs deterministically: with fixed server randomness, a recorded client flight fits a fresh server. */
    let ed: CertifiedKey;
    before(async () => {
      ed = await generateSelfSigned({ hostname: 'localhost', keyType: 'ed25519' });
      const c = client(ed, 'TLSv1.2');
      c.start();
      hello12 = Buffer.concat(c.takeOutput());
      const s = server(ed, 'TLSv1.2', 'fuzz');
      s.receive(hello12);
      serverFlight12 = s.takeOutput();
      for (const r of serverFlight12) c.receive(r);
      clientFlight12 = c.takeOutput(); // ClientKeyExchange, ChangeCipherSpec, Finished
      assert.equal(clientFlight12.length, 3);
    });

    it('the 1.2 server survives mutated and truncated ClientHellos', () => {
      fc.assert(
        fc.property(fc.array(mutation, { maxLength: 6 }), fc.nat(), (mutations, cut) => {
          const msg = Uint8Array.from(hello12);
          for (const m of mutations) msg[m.at % msg.length] = m.value;
          const s = server(ed, 'TLSv1.2');
          assertSane(s, feed(s, [msg.subarray(0, Math.max(1, msg.length - (cut % 40)))]));
        }),
        { numRuns: 300 },
      );
    });

    it('the 1.2 client survives a mutated server flight, and never completes on one', () => {
      fc.assert(
        fc.property(
          fc.nat({ max: 20 }),
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          (which, mutations) => {
            const c = client(ed, 'TLSv1.2');
            c.start();
            c.takeOutput();
            const flight = serverFlight12.map((r) => Uint8Array.from(r));
            const target = flight[which % flight.length]!;
            for (const m of mutations) target[m.at % target.length] = m.value;
            const events = feed(c, flight);
            assertSane(c, events);
            const changed = flight.some(
              (r, i) => Buffer.compare(Buffer.from(r), Buffer.from(serverFlight12[i]!)) !== 0,
            );
            // Nothing the server sends before its Finished may let the client complete.
            if (changed) assert.ok(!events.some((e) => e.type === 'established'), 'tampering detected');
          },
        ),
        { numRuns: 300 },
      );
    });

    it('the 1.2 server survives a mutated, reordered or cut client flight (ClientKeyExchange, ChangeCipherSpec, Finished)', () => {
      fc.assert(
        fc.property(
          fc.nat({ max: 2 }),
          fc.array(mutation, { maxLength: 4 }),
          fc.boolean(),
          fc.nat({ max: 3 }),
          (which, mutations, swap, drop) => {
            // The same randomness as the recorded run, so the ServerKeyExchange matches the client's flight.
            const s = server(ed, 'TLSv1.2', 'fuzz');
            s.receive(hello12);
            s.takeOutput();
            let flight = clientFlight12.map((r) => Uint8Array.from(r));
            const target = flight[which]!;
            for (const m of mutations) target[m.at % target.length] = m.value;
            if (swap) flight = [flight[1]!, flight[0]!, flight[2]!];
            if (drop < 3) flight.splice(drop, 1);
            const events = feed(s, flight);
            assertSane(s, events);
            const changed =
              swap ||
              drop < 3 ||
              Buffer.compare(Buffer.from(target), Buffer.from(clientFlight12[which]!)) !== 0;
            const done = events.some((e) => e.type === 'established');
            assert.equal(
              done,
              !changed,
              changed ? 'a broken client flight never completes' : 'the recorded flight completes',
            );
          },
        ),
        { numRuns: 300 },
      );
    });
  });

  describe('resumption inputs', () => {
    /** A resumption ClientHello (pre_shared_key last) for a ticket the default server can open. */
    let resumptionHello: Uint8Array;
    before(() => {
      const cache = new MemorySessionCache();
      const resumingClient = () =>
        new TlsConnection({
          role: 'client',
          provider: defaultProvider,
          client: {
            serverName: 'localhost',
            ca: key.certificateChainPem,
            rejectUnauthorized: true,
            sessionCache: cache,
          },
        });
      const c = resumingClient();
      const s = server(key);
      c.start();
      for (let i = 0; i < 5; i++) {
        for (const b of c.takeOutput()) s.receive(b);
        for (const b of s.takeOutput()) c.receive(b);
      }
      assert.equal(cache.size, 1);
      const r = resumingClient();
      r.start();
      resumptionHello = r.takeOutput()[0]!;
      // Unmutated, it resumes: the ServerHello selects the ticket.
      assert.ok(selectsPsk(feedServer(resumptionHello).out));
    });

    function feedServer(record: Uint8Array) {
      const s = server(key);
      s.receive(record);
      return { s, events: s.takeEvents(), out: s.takeOutput() };
    }

    /** Whether the server's first record is a ServerHello carrying pre_shared_key. */
    function selectsPsk(out: Uint8Array[]): boolean {
      const first = out[0];
      if (!first || first[0] !== 22 || first[5] !== 2) return false;
      return decodeServerHello(first.subarray(9)).extensions.some((e) => e.type === 41);
    }

    /** The ClientHello with its last extensions replaced, re-framed as a record. */
    function withTail(tail: Extension[]): Uint8Array {
      const ch = decodeClientHello(resumptionHello.subarray(9));
      const hello = encodeClientHello({
        ...ch,
        extensions: [...ch.extensions.filter((e) => e.type !== 41 && e.type !== 45), ...tail],
      });
      return Buffer.concat([Buffer.from([22, 3, 1, hello.length >> 8, hello.length & 0xff]), hello]);
    }

    it('the server survives mutated psk_key_exchange_modes and pre_shared_key, and never resumes on a mutated one', () => {
      const ch = decodeClientHello(resumptionHello.subarray(9));
      const modes = ch.extensions.find((e) => e.type === 45)!;
      const psk = ch.extensions.find((e) => e.type === 41)!;
      // The two extensions are the record's tail: 4 + modes, then 4 + psk bytes.
      const start = resumptionHello.length - (4 + psk.data.length) - (4 + modes.data.length);
      assert.equal(resumptionHello[start + 1], 45);
      fc.assert(
        fc.property(
          fc.array(mutation, { minLength: 1, maxLength: 4 }),
          fc.nat({ max: 30 }),
          (mutations, cut) => {
            const msg = Uint8Array.from(resumptionHello);
            for (const m of mutations) msg[start + (m.at % (msg.length - start))] = m.value;
            const changed = Buffer.compare(Buffer.from(msg), Buffer.from(resumptionHello)) !== 0;
            const { s, events, out } = feedServer(msg.subarray(0, msg.length - cut));
            assertSane(s, events);
            if (changed || cut > 0) assert.ok(!selectsPsk(out), 'a mutated offer never resumes');
          },
        ),
        { numRuns: 400 },
      );
    });

    it('the server survives random psk_key_exchange_modes and pre_shared_key bodies: an alert or a full handshake', () => {
      fc.assert(
        fc.property(
          fc.uint8Array({ maxLength: 12 }),
          fc.uint8Array({ maxLength: 200 }),
          fc.boolean(),
          (modes, psk, modesFirst) => {
            const tail: Extension[] = [
              { type: 45, data: modes },
              { type: 41, data: psk },
            ];
            const { s, events, out } = feedServer(withTail(modesFirst ? tail : [tail[1]!, tail[0]!]));
            assertSane(s, events);
            assert.ok(!selectsPsk(out));
            const fatal = events.find((e) => e.type === 'fatal');
            // pre_shared_key not last: always illegal_parameter (RFC 8446 §4.2.11).
            if (!modesFirst) assert.equal(fatal?.type === 'fatal' && fatal.alert, 'illegal_parameter');
            if (!fatal) assert.ok(out.length > 0 && out[0]![5] === 2, 'a full handshake');
          },
        ),
        { numRuns: 400 },
      );
    });

    it('the client survives malformed NewSessionTickets: an alert and a close, or the ticket kept', () => {
      const ticket = encodeNewSessionTicket({
        lifetime: 7200,
        ageAdd: 1,
        nonce: Uint8Array.of(0, 0),
        ticket: new Uint8Array(40).fill(9),
        extensions: [{ type: 42, data: Uint8Array.of(0, 0, 4, 0) }],
      });
      fc.assert(
        fc.property(
          fc.oneof(
            fc.record({ kind: fc.constant('random' as const), body: fc.uint8Array({ maxLength: 80 }) }),
            fc.record({
              kind: fc.constant('cut' as const),
              cut: fc.integer({ min: 1, max: ticket.length - 4 }),
            }),
            fc.record({
              kind: fc.constant('mutated' as const),
              mutations: fc.array(mutation, { minLength: 1, maxLength: 4 }),
            }),
          ),
          (input) => {
            const cache = new MemorySessionCache();
            const c = new TlsConnection({
              role: 'client',
              provider: defaultProvider,
              client: {
                serverName: 'localhost',
                ca: key.certificateChainPem,
                rejectUnauthorized: true,
                sessionCache: cache,
              },
            });
            const s = server(key, 'TLSv1.3');
            c.start();
            for (let i = 0; i < 5; i++) {
              for (const b of c.takeOutput()) s.receive(b);
              for (const b of s.takeOutput()) c.receive(b);
            }
            const before = c.takeEvents();
            assert.ok(before.some((e) => e.type === 'established'));
            assert.equal(cache.size, 1);
            let message: Uint8Array;
            if (input.kind === 'random')
              message = Buffer.concat([Buffer.from([4, 0, 0, input.body.length]), input.body]);
            else if (input.kind === 'cut') {
              // The body cut short, its header saying so: always a decode_error.
              const body = ticket.subarray(4, ticket.length - input.cut);
              message = Buffer.concat([Buffer.from([4, 0, 0, body.length]), body]);
            } else {
              message = Uint8Array.from(ticket);
              for (const m of input.mutations) message[4 + (m.at % (message.length - 4))] = m.value;
            }
            const out: Uint8Array[] = [];
            (
              s as unknown as { records: { protect(t: number, c: Uint8Array, o: Uint8Array[]): void } }
            ).records.protect(22, message, out);
            const events = feed(c, out);
            assertSane(c, events);
            const fatal = events.find((e) => e.type === 'fatal');
            if (input.kind === 'cut') assert.equal(fatal?.type === 'fatal' && fatal.alert, 'decode_error');
            if (fatal) assert.ok(!c.isOpen, 'closed after the alert');
            else assert.ok(c.isOpen && cache.size >= 1, 'still open');
          },
        ),
        { numRuns: 300 },
      );
    });
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
