/**
 * TLS 1.3 session tickets and PSK-DHE resumption (RFC 8446 §2.2, §4.2.9–§4.2.11, §4.6.1),
 * our client against our server in memory: what is resumed, what falls back to a full
 * handshake in silence, what is fatal, and how refused 0-RTT is skipped.
 */
import assert from 'node:assert/strict';
import { createDecipheriv } from 'node:crypto';
import { CertificateStore, generateSelfSigned, type CertifiedKey } from '../src/index.js';
import { TlsConnection, type TlsEvent } from '../src/tls/connection.js';
import type { ClientHandshakeConfig } from '../src/tls/client-handshake.js';
import { CIPHER_SUITES, suiteByCode } from '../src/tls/constants.js';
import type { HandshakeResult } from '../src/tls/handshake-common.js';
import { KeySchedule } from '../src/tls/key-schedule.js';
import { decodeClientHello, encodeClientHello } from '../src/tls/messages.js';
import type { ServerHandshakeConfig } from '../src/tls/server-handshake.js';
import { MemorySessionCache, type ClientSession, type TlsSessionCache } from '../src/tls/session-cache.js';
import { AeadSessionTicketer, TicketKeys, type TicketState } from '../src/tls/session-ticket.js';
import { defaultProvider, nobleProvider, nodeProvider } from '../src/crypto/default-provider.js';
import type { CryptoProvider } from '../src/crypto/provider.js';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

interface Run {
  client: TlsConnection;
  server: TlsConnection;
  clientEvents: TlsEvent[];
  serverEvents: TlsEvent[];
  /** Records as they crossed, tagged with the sender. */
  wire: Array<{ from: 'client' | 'server'; bytes: Uint8Array }>;
  clientKeyLog: string[];
  serverKeyLog: string[];
  /** Deliver everything pending both ways until quiet; `tamper` may rewrite a record in flight. */
  run(tamper?: (from: 'client' | 'server', bytes: Uint8Array, index: number) => Uint8Array): void;
}

interface RunOptions {
  provider?: CryptoProvider;
  client?: Partial<ClientHandshakeConfig>;
  server?: Partial<ServerHandshakeConfig>;
  tamper?: (from: 'client' | 'server', bytes: Uint8Array, index: number) => Uint8Array;
}

function connect(key: CertifiedKey, cache: TlsSessionCache | undefined, o: RunOptions = {}): Run {
  const provider = o.provider ?? defaultProvider;
  const clientKeyLog: string[] = [];
  const serverKeyLog: string[] = [];
  const client = new TlsConnection({
    role: 'client',
    provider,
    keyLog: (l) => clientKeyLog.push(l),
    client: {
      serverName: 'localhost',
      ca: key.certificateChainPem,
      rejectUnauthorized: true,
      sessionCache: cache,
      ...o.client,
    },
  });
  const server = new TlsConnection({
    role: 'server',
    provider,
    keyLog: (l) => serverKeyLog.push(l),
    server: { certificates: new CertificateStore([key]), ...o.server },
  });
  let sent = 0;
  const r: Run = {
    client,
    server,
    clientEvents: [],
    serverEvents: [],
    wire: [],
    clientKeyLog,
    serverKeyLog,
    run(tamper = o.tamper) {
      for (let i = 0; i < 50; i++) {
        const c = client.takeOutput();
        const s = server.takeOutput();
        r.clientEvents.push(...client.takeEvents());
        r.serverEvents.push(...server.takeEvents());
        if (c.length === 0 && s.length === 0) return;
        for (const b of c) {
          const bytes = tamper ? tamper('client', b, sent++) : b;
          r.wire.push({ from: 'client', bytes });
          server.receive(bytes);
        }
        for (const b of s) {
          r.wire.push({ from: 'server', bytes: b });
          client.receive(b);
        }
      }
      throw new Error('connections never went quiet');
    },
  };
  client.start();
  r.run();
  return r;
}

const established = (events: TlsEvent[]): HandshakeResult | undefined =>
  (events.find((e) => e.type === 'established') as Extract<TlsEvent, { type: 'established' }> | undefined)
    ?.result;
const fatal = (events: TlsEvent[]) =>
  events.find((e) => e.type === 'fatal') as Extract<TlsEvent, { type: 'fatal' }> | undefined;
const text = (events: TlsEvent[]) =>
  Buffer.concat(events.flatMap((e) => (e.type === 'data' ? [Buffer.from(e.data)] : []))).toString();

/** A full handshake that leaves one ticket in `cache`. */
function primed(key: CertifiedKey, cache: MemorySessionCache, o: RunOptions = {}): Run {
  const first = connect(key, cache, o);
  assert.equal(fatal(first.clientEvents), undefined, JSON.stringify(fatal(first.clientEvents)));
  assert.equal(established(first.clientEvents)?.resumed, false);
  assert.equal(cache.size, 1, 'the server sent one ticket and the client kept it');
  return first;
}

/** Hands out the session it holds for any name, any number of times (to test the server's checks). */
class FixedCache implements TlsSessionCache {
  constructor(public session: ClientSession) {}
  put(): void {}
  take(): ClientSession {
    return this.session;
  }
}

function takeOne(cache: MemorySessionCache): ClientSession {
  const s = cache.take('localhost', Date.now());
  assert.ok(s, 'a session is cached');
  return s;
}

/** The handshake messages in records sent under a key-log secret (TLS 1.3, AES-GCM suites). */
function handshakeTypes(
  provider: CryptoProvider,
  result: HandshakeResult,
  secretHex: string,
  records: Uint8Array[],
): number[] {
  const schedule = new KeySchedule(provider, result.cipherSuite);
  const { key, iv } = schedule.trafficKeys(Buffer.from(secretHex, 'hex'));
  const types: number[] = [];
  records.forEach((rec, seq) => {
    const nonce = Uint8Array.from(iv);
    nonce[11] ^= seq;
    const d = createDecipheriv(result.cipherSuite.aead as 'aes-128-gcm', key, nonce);
    d.setAAD(rec.subarray(0, 5));
    d.setAuthTag(rec.subarray(rec.length - 16));
    const inner = Buffer.concat([d.update(rec.subarray(5, rec.length - 16)), d.final()]);
    assert.equal(inner[inner.length - 1], 22, 'a handshake record');
    for (let p = 0; p < inner.length - 1;) {
      types.push(inner[p]!);
      p += 4 + ((inner[p + 1]! << 16) | (inner[p + 2]! << 8) | inner[p + 3]!);
    }
  });
  return types;
}

const keyLogSecret = (lines: string[], label: string) =>
  lines.find((l) => l.startsWith(`${label} `))!.split(' ')[2]!;

describe('TLS 1.3 resumption with session tickets (our client and server, in memory)', function () {
  let key: CertifiedKey;
  before(async () => {
    key = await generateSelfSigned({ hostname: 'localhost', altNames: ['other.localhost'] });
  });

  for (const [name, provider] of [
    ['node', nodeProvider],
    ['noble', nobleProvider],
  ] as const) {
    it(`resumes with the ticket: no Certificate, data flows, ALPN and SNI kept, the original peer facts (${name} provider)`, () => {
      const cache = new MemorySessionCache();
      const alpn = { client: { alpnProtocols: ['smtp'] }, server: { alpnProtocols: ['smtp'] } };
      const first = primed(key, cache, { provider, ...alpn });
      const full = established(first.clientEvents)!;
      const r = connect(key, cache, { provider, ...alpn });
      assert.equal(fatal(r.serverEvents), undefined, JSON.stringify(fatal(r.serverEvents)));
      const c = established(r.clientEvents)!;
      const s = established(r.serverEvents)!;
      assert.equal(c.resumed, true);
      assert.equal(s.resumed, true);
      assert.equal(c.alpnProtocol, 'smtp');
      assert.equal(s.alpnProtocol, 'smtp');
      assert.equal(s.serverName, 'localhost');
      assert.equal(c.peerVerified, true);
      assert.deepEqual(c.peerCertificates.map(hex), full.peerCertificates.map(hex));
      assert.equal(c.signatureScheme, full.signatureScheme);
      assert.equal(s.signatureScheme, undefined, 'no CertificateVerify');
      // The server's encrypted flight, opened with the key-log secret: EncryptedExtensions, Finished.
      const serverProtected = r.wire
        .filter((w) => w.from === 'server' && w.bytes[0] === 23)
        .map((w) => w.bytes);
      assert.deepEqual(
        handshakeTypes(provider, s, keyLogSecret(r.serverKeyLog, 'SERVER_HANDSHAKE_TRAFFIC_SECRET'), [
          serverProtected[0]!,
        ]),
        [8, 20],
      );
      // Both sides logged the same secrets; a new ticket came for next time.
      assert.deepEqual(r.clientKeyLog, r.serverKeyLog);
      assert.equal(r.clientKeyLog.length, 5);
      assert.equal(cache.size, 1);
      r.client.send(Buffer.from('ping'));
      r.server.send(Buffer.from('pong'));
      r.run();
      assert.equal(text(r.serverEvents), 'ping');
      assert.equal(text(r.clientEvents), 'pong');
      // Exporters agree.
      assert.equal(
        hex(r.client.exportKeyingMaterial(32, 'EXPORTER-test')),
        hex(r.server.exportKeyingMaterial(32, 'EXPORTER-test')),
      );
    });
  }

  it('a full handshake sends Certificate and CertificateVerify, for comparison', () => {
    const cache = new MemorySessionCache();
    const r = connect(key, cache);
    const s = established(r.serverEvents)!;
    const serverProtected = r.wire
      .filter((w) => w.from === 'server' && w.bytes[0] === 23)
      .map((w) => w.bytes);
    assert.deepEqual(
      handshakeTypes(defaultProvider, s, keyLogSecret(r.serverKeyLog, 'SERVER_HANDSHAKE_TRAFFIC_SECRET'), [
        serverProtected[0]!,
      ]),
      [8, 11, 15, 20],
    );
  });

  it('resumes a TLS_AES_256_GCM_SHA384 session with a suite of its hash', () => {
    const cache = new MemorySessionCache();
    primed(key, cache, { client: { suites: [CIPHER_SUITES[1]!] } });
    const r = connect(key, cache);
    const c = established(r.clientEvents)!;
    assert.equal(c.resumed, true);
    assert.equal(c.cipherSuite.name, 'TLS_AES_256_GCM_SHA384');
  });

  it('after a HelloRetryRequest the binder is recomputed over the transcript with it, and the session resumes', () => {
    const cache = new MemorySessionCache();
    primed(key, cache);
    const r = connect(key, cache, {
      client: { groups: ['x25519', 'secp384r1'] },
      server: { groups: ['secp384r1'] },
    });
    const serverHellos = r.wire.filter((w) => w.from === 'server' && w.bytes[0] === 22 && w.bytes[5] === 2);
    assert.equal(serverHellos.length, 2, 'HelloRetryRequest then ServerHello');
    assert.equal(fatal(r.serverEvents), undefined, JSON.stringify(fatal(r.serverEvents)));
    assert.equal(established(r.serverEvents)?.resumed, true);
    assert.equal(established(r.clientEvents)?.group, 'secp384r1');
  });

  it('a ticket for another server name gets a full handshake, its certificate verified', () => {
    const cache = new MemorySessionCache();
    primed(key, cache);
    const r = connect(key, new FixedCache(takeOne(cache)), { client: { serverName: 'other.localhost' } });
    assert.equal(fatal(r.clientEvents), undefined);
    assert.equal(established(r.serverEvents)?.resumed, false);
    assert.equal(established(r.serverEvents)?.serverName, 'other.localhost');
    assert.equal(established(r.clientEvents)?.peerVerified, true);
  });

  it('a tampered ticket gets a full handshake', () => {
    const cache = new MemorySessionCache();
    primed(key, cache);
    const s = takeOne(cache);
    const ticket = Uint8Array.from(s.ticket);
    ticket[ticket.length - 1] ^= 1;
    const r = connect(key, new FixedCache({ ...s, ticket }));
    assert.equal(fatal(r.clientEvents), undefined);
    assert.equal(established(r.clientEvents)?.resumed, false);
    assert.equal(established(r.serverEvents)?.resumed, false);
    // The untampered ticket still resumes: the fallback was the tampering's doing.
    assert.equal(established(connect(key, new FixedCache(s)).serverEvents)?.resumed, true);
  });

  it('an expired ticket gets a full handshake; one the client knows expired is not offered', () => {
    const cache = new MemorySessionCache();
    primed(key, cache, { server: { sessionTickets: { lifetimeSeconds: 60 } } });
    const s = takeOne(cache);
    assert.equal(s.lifetimeSeconds, 60);
    const later = () => new Date(Date.now() + 61_000);
    const expired = connect(key, new FixedCache(s), { server: { now: later } });
    assert.equal(fatal(expired.clientEvents), undefined);
    assert.equal(established(expired.serverEvents)?.resumed, false);
    const inTime = connect(key, new FixedCache(s), { server: { now: () => new Date(Date.now() + 50_000) } });
    assert.equal(established(inTime.serverEvents)?.resumed, false, 'its age is 50 s off the client’s');
    const fresh = connect(key, new FixedCache(s));
    assert.equal(established(fresh.serverEvents)?.resumed, true);
    // The client's own clock: past the lifetime, the cache hands out nothing.
    cache.put(s);
    assert.equal(cache.take('localhost', Date.now() + 61_000), undefined);
    assert.equal(cache.size, 0);
  });

  it('an obfuscated ticket age too far from the server’s count gets a full handshake', () => {
    const cache = new MemorySessionCache();
    primed(key, cache);
    const s = takeOne(cache);
    const r = connect(key, new FixedCache({ ...s, ageAdd: (s.ageAdd + 60_000) >>> 0 }));
    assert.equal(established(r.serverEvents)?.resumed, false);
  });

  it('a tampered binder is refused with decrypt_error', () => {
    const cache = new MemorySessionCache();
    primed(key, cache);
    const r = connect(key, cache, {
      // The ClientHello is the first record; its binder is its last byte.
      tamper: (from, bytes, i) => {
        if (from !== 'client' || i !== 0) return bytes;
        const b = Uint8Array.from(bytes);
        b[b.length - 1] ^= 1;
        return b;
      },
    });
    assert.equal(fatal(r.serverEvents)?.alert, 'decrypt_error');
    assert.equal(fatal(r.clientEvents)?.alert, 'decrypt_error');
    assert.equal(fatal(r.clientEvents)?.sentByPeer, true);
  });

  it('without signature_algorithms a PSK offer resumes; if the ticket is unusable, missing_extension (RFC 8446 §9.2)', () => {
    const noSignatureAlgorithms: RunOptions = {
      client: { extensionHook: (_p, exts) => exts.filter((e) => e.type !== 13) },
    };
    const cache = new MemorySessionCache();
    primed(key, cache);
    const s = takeOne(cache);
    const resumed = connect(key, new FixedCache(s), noSignatureAlgorithms);
    assert.equal(fatal(resumed.serverEvents), undefined, JSON.stringify(fatal(resumed.serverEvents)));
    assert.equal(established(resumed.serverEvents)?.resumed, true);
    assert.equal(established(resumed.clientEvents)?.resumed, true);

    const ticket = Uint8Array.from(s.ticket);
    ticket[ticket.length - 1] ^= 1;
    const full = connect(key, new FixedCache({ ...s, ticket }), noSignatureAlgorithms);
    assert.equal(fatal(full.serverEvents)?.alert, 'missing_extension');
    assert.equal(fatal(full.clientEvents)?.sentByPeer, true);

    // Without a PSK offer, the ClientHello itself is refused.
    const plain = connect(key, undefined, noSignatureAlgorithms);
    assert.equal(fatal(plain.serverEvents)?.alert, 'missing_extension');
  });

  it('psk_ke alone gets a full handshake and no ticket', () => {
    const cache = new MemorySessionCache();
    primed(key, cache);
    const r = connect(key, cache, {
      client: {
        extensionHook: (_p, exts) =>
          exts.map((e) => (e.type === 45 ? { type: 45, data: Uint8Array.of(1, 0) } : e)),
      },
    });
    assert.equal(fatal(r.serverEvents), undefined);
    assert.equal(established(r.serverEvents)?.resumed, false);
    assert.equal(established(r.clientEvents)?.signatureScheme !== undefined, true);
    assert.equal(cache.size, 0, 'tickets only for psk_dhe_ke clients');
  });

  it('pre_shared_key without psk_key_exchange_modes is missing_extension; not last, illegal_parameter', () => {
    const cache = new MemorySessionCache();
    primed(key, cache);
    const noModes = connect(key, cache, {
      client: { extensionHook: (_p, exts) => exts.filter((e) => e.type !== 45) },
    });
    assert.equal(fatal(noModes.serverEvents)?.alert, 'missing_extension');

    primed(key, cache);
    const notLast = connect(key, cache, {
      tamper: (from, bytes, i) => {
        if (from !== 'client' || i !== 0) return bytes;
        const ch = decodeClientHello(bytes.subarray(9));
        const psk = ch.extensions.find((e) => e.type === 41)!;
        const reordered = encodeClientHello({
          ...ch,
          extensions: [psk, ...ch.extensions.filter((e) => e !== psk)],
        });
        return Buffer.concat([
          Buffer.from([22, 3, 1, reordered.length >> 8, reordered.length & 0xff]),
          reordered,
        ]);
      },
    });
    assert.equal(fatal(notLast.serverEvents)?.alert, 'illegal_parameter');
  });

  it('the client refuses a ServerHello selecting an identity it did not offer, or a suite of another hash', () => {
    for (const [what, edit] of [
      ['selected_identity 1', (sh: Buffer) => sh.indexOf(Buffer.from('002900020000', 'hex')) + 5],
      ['SHA-384 suite for a SHA-256 PSK', (sh: Buffer) => 5 + 4 + 2 + 32 + 1 + sh[5 + 4 + 2 + 32]! + 1],
    ] as const) {
      const cache = new MemorySessionCache();
      primed(key, cache);
      const client = new TlsConnection({
        role: 'client',
        provider: defaultProvider,
        client: {
          serverName: 'localhost',
          ca: key.certificateChainPem,
          rejectUnauthorized: true,
          sessionCache: cache,
        },
      });
      const server = new TlsConnection({
        role: 'server',
        provider: defaultProvider,
        server: { certificates: new CertificateStore([key]) },
      });
      client.start();
      for (const b of client.takeOutput()) server.receive(b);
      const [sh] = server.takeOutput();
      const bytes = Buffer.from(sh!);
      const at = edit(bytes);
      assert.ok(at > 5, what);
      if (what.startsWith('SHA')) {
        assert.equal(bytes.readUInt16BE(at - 1), 0x1301);
        bytes.writeUInt16BE(0x1302, at - 1);
      } else bytes[at] = 1;
      client.receive(bytes);
      assert.equal(fatal(client.takeEvents())?.alert, 'illegal_parameter', what);
    }
  });

  it('sessionTickets: false issues none and resumes none; count: 2 issues two', () => {
    const cache = new MemorySessionCache();
    const none = connect(key, cache, { server: { sessionTickets: false } });
    assert.equal(established(none.clientEvents)?.resumed, false);
    assert.equal(cache.size, 0);
    connect(key, cache, { server: { sessionTickets: { count: 2 } } });
    assert.equal(cache.size, 2);
    const refused = connect(key, cache, { server: { sessionTickets: false } });
    assert.equal(established(refused.serverEvents)?.resumed, false);
    assert.equal(cache.size, 1, 'one taken, none issued');
    const zero = connect(key, cache, { server: { sessionTickets: { count: 0 } } });
    assert.equal(established(zero.serverEvents)?.resumed, true, 'count 0 still resumes');
    assert.equal(cache.size, 0);
  });

  it('a client without a session cache asks for no tickets and gets none', () => {
    const protectedFromServer = (r: Run) => r.wire.filter((w) => w.from === 'server' && w.bytes[0] === 23);
    const without = connect(key, undefined);
    assert.equal(established(without.clientEvents)?.resumed, false);
    // The encrypted flight, and nothing after the client Finished.
    assert.equal(protectedFromServer(without).length, 1);
    const withCache = connect(key, new MemorySessionCache());
    assert.equal(protectedFromServer(withCache).length, 2, 'the flight, then the NewSessionTicket');
  });

  it('a session whose certificate no longer verifies is not offered when verification is required', async () => {
    const cache = new MemorySessionCache();
    primed(key, cache);
    const other = await generateSelfSigned({ hostname: 'localhost' });
    // Other trust anchors: the cached chain does not verify, so no PSK; the full handshake fails on it.
    const r = connect(key, cache, { client: { ca: other.certificateChainPem } });
    assert.equal(established(r.serverEvents), undefined, 'not resumed');
    assert.match(fatal(r.clientEvents)?.alert ?? '', /^(unknown_ca|bad_certificate)$/);
    assert.equal(cache.size, 0, 'taken and dropped');
  });

  describe('refused 0-RTT (RFC 8446 §4.2.10)', () => {
    const withEarlyData: Partial<ClientHandshakeConfig> = {
      // Our client never sends early_data; a hook puts it in the first ClientHello only.
      extensionHook: (point, exts) => {
        if (point !== 'ClientHello' || exts.some((e) => e.type === 44)) return exts;
        const psk = exts.filter((e) => e.type === 41);
        return [...exts.filter((e) => e.type !== 41), { type: 42, data: new Uint8Array(0) }, ...psk];
      },
    };
    /** After the first client record (the ClientHello), `n` fake 0-RTT records of `size` bytes. */
    const earlyRecords = (n: number, size: number) => (from: string, bytes: Uint8Array, i: number) => {
      if (from !== 'client' || i !== 0) return bytes;
      const junk = Array.from({ length: n }, () =>
        Buffer.concat([Buffer.from([23, 3, 3, size >> 8, size & 0xff]), Buffer.alloc(size, 0xee)]),
      );
      return Buffer.concat([bytes, ...junk]);
    };

    it('skips records that fail under the handshake key and resumes, EncryptedExtensions without early_data', () => {
      const cache = new MemorySessionCache();
      primed(key, cache);
      const r = connect(key, cache, { client: withEarlyData, tamper: earlyRecords(3, 1000) });
      assert.equal(fatal(r.serverEvents), undefined, JSON.stringify(fatal(r.serverEvents)));
      assert.equal(established(r.serverEvents)?.resumed, true);
      // Our client would refuse early_data in EncryptedExtensions had the server sent it.
      assert.equal(fatal(r.clientEvents), undefined);
      r.client.send(Buffer.from('after'));
      r.run();
      assert.equal(text(r.serverEvents), 'after');
    });

    it('with a full handshake too', () => {
      const r = connect(key, new MemorySessionCache(), {
        client: withEarlyData,
        tamper: earlyRecords(2, 500),
      });
      assert.equal(fatal(r.serverEvents), undefined);
      assert.equal(established(r.serverEvents)?.resumed, false);
    });

    it('skips application_data records before keys after a HelloRetryRequest, and early_data in the second ClientHello is illegal_parameter', () => {
      const cache = new MemorySessionCache();
      primed(key, cache);
      const r = connect(key, cache, {
        client: { ...withEarlyData, groups: ['x25519', 'secp384r1'] },
        server: { groups: ['secp384r1'] },
        tamper: earlyRecords(2, 300),
      });
      const serverHellos = r.wire.filter((w) => w.from === 'server' && w.bytes[0] === 22 && w.bytes[5] === 2);
      assert.equal(serverHellos.length, 2, 'HelloRetryRequest then ServerHello');
      assert.equal(fatal(r.serverEvents), undefined, JSON.stringify(fatal(r.serverEvents)));
      assert.equal(established(r.serverEvents)?.resumed, true);

      const again = connect(key, undefined, {
        client: {
          groups: ['x25519', 'secp384r1'],
          extensionHook: (point, exts) => [...exts, { type: 42, data: new Uint8Array(0) }],
        },
        server: { groups: ['secp384r1'] },
      });
      assert.equal(fatal(again.serverEvents)?.alert, 'illegal_parameter');
    });

    it('gives up with unexpected_message past 64 KiB of skipped records', () => {
      const r = connect(key, new MemorySessionCache(), {
        client: withEarlyData,
        tamper: earlyRecords(5, 16000),
      });
      assert.equal(fatal(r.serverEvents)?.alert, 'unexpected_message');
      const ok = connect(key, new MemorySessionCache(), {
        client: withEarlyData,
        tamper: earlyRecords(4, 16000),
      });
      assert.equal(fatal(ok.serverEvents), undefined);
    });

    it('without early_data in the ClientHello, an undecryptable record is bad_record_mac', () => {
      const r = connect(key, new MemorySessionCache(), { tamper: earlyRecords(1, 100) });
      assert.equal(fatal(r.serverEvents)?.alert, 'bad_record_mac');
    });
  });
});

describe('Session ticket sealing and the client session cache', () => {
  const state: TicketState = {
    psk: new Uint8Array(32).fill(7),
    suite: 0x1301,
    issuedAt: 1_700_000_000_123,
    ageAdd: 0xfedcba98,
    lifetime: 7200,
    serverName: 'mail.example.test',
    alpn: 'imap',
  };

  it('seals and opens ticket state; a flipped bit anywhere, or another key, opens nothing', () => {
    const keys = new TicketKeys();
    const t = new AeadSessionTicketer(defaultProvider, keys);
    const ticket = t.seal(state);
    assert.deepEqual(t.open(ticket), state);
    // Randomized: two seals of one state differ; the state does not show through.
    assert.notEqual(hex(t.seal(state)), hex(ticket));
    assert.ok(!Buffer.from(ticket).includes(Buffer.from(state.psk)));
    for (let i = 0; i < ticket.length; i++) {
      const bad = Uint8Array.from(ticket);
      bad[i] ^= 0x10;
      assert.equal(t.open(bad), undefined, `byte ${i}`);
    }
    assert.equal(new AeadSessionTicketer(defaultProvider, new TicketKeys()).open(ticket), undefined);
    assert.equal(t.open(ticket.subarray(0, 20)), undefined);
    // node:crypto and noble AES-GCM agree on the format.
    assert.deepEqual(new AeadSessionTicketer(nobleProvider, keys).open(ticket), state);
  });

  it('a rotated key still opens its tickets; two rotations later they are gone', () => {
    const keys = new TicketKeys();
    const t = new AeadSessionTicketer(defaultProvider, keys);
    const ticket = t.seal({ ...state, serverName: undefined, alpn: undefined });
    keys.rotate();
    assert.equal(t.open(ticket)?.serverName, undefined);
    assert.notEqual(hex(t.seal(state).subarray(1, 9)), hex(ticket.subarray(1, 9)), 'a new key id');
    keys.rotate();
    assert.equal(t.open(ticket), undefined);
  });

  it('rotates on its own after rotateEveryMs', async () => {
    const keys = new TicketKeys({ rotateEveryMs: 20 });
    const first = keys.current.id;
    assert.equal(hex(keys.current.id), hex(first));
    await new Promise((r) => setTimeout(r, 30));
    assert.notEqual(hex(keys.current.id), hex(first));
  });

  it('the cache hands out the newest unexpired session once, per server name, within its bounds', () => {
    const cache = new MemorySessionCache({ maxPerServer: 2, maxServers: 2 });
    const session = (serverName: string, receivedAt: number, lifetimeSeconds = 100): ClientSession => ({
      serverName,
      ticket: Uint8Array.of(receivedAt & 0xff),
      psk: new Uint8Array(32),
      cipherSuite: 0x1301,
      ageAdd: 0,
      lifetimeSeconds,
      receivedAt,
      peerCertificates: [],
      peerVerified: true,
    });
    cache.put(session('a', 1000));
    cache.put(session('a', 2000));
    cache.put(session('a', 3000, 1));
    assert.equal(cache.size, 2, 'at most two per name');
    // The newest (3000) has expired by 4500; the next newest is handed out, then nothing.
    assert.equal(cache.take('a', 4500)?.receivedAt, 2000);
    assert.equal(cache.take('a', 4500), undefined);
    cache.put(session('a', 1));
    cache.put(session('b', 1));
    cache.put(session('c', 1));
    assert.equal(cache.take('a', 2), undefined, 'the least recently stored name went');
    assert.equal(cache.take('b', 2)?.serverName, 'b');
    assert.equal(cache.take('c', 2)?.serverName, 'c');
    assert.equal(suiteByCode(0x1301)?.hash, 'sha256');
  });
});
