/**
 * Which alert answers which malformed or misplaced input (issue 19, items 11–14), pinned on the
 * sans-I/O connection: a ClientHello rewritten field by field, records forged under the
 * client's keys. Each case names the RFC rule and tlsfuzzer's expectation it follows.
 */
import assert from 'node:assert/strict';
import { CertificateStore, generateSelfSigned, type CertifiedKey } from '../src/index.js';
import { defaultProvider } from '../src/crypto/default-provider.js';
import type { NamedGroup } from '../src/crypto/provider.js';
import { TlsConnection, type TlsEvent } from '../src/tls/connection.js';
import { ContentType, ExtensionType, HandshakeType, MAX_CLIENT_HELLO } from '../src/tls/constants.js';
import type { TlsVersion } from '../src/tls/engine.js';
import { PEER_MISBEHAVED, alertFor, type PeerMisbehaved, type TlsFailure } from '../src/tls/failures.js';
import { encodeClientHello, type ClientHello } from '../src/tls/messages.js';
import {
  clientHello,
  handshakeRecords,
  newClient,
  record,
  records,
  withExt,
  without,
} from './helpers/tls-hello.js';

const RSL = 28;
const FALLBACK_SCSV = 0x5600;

interface ServerOptions {
  minVersion?: TlsVersion;
  groups?: NamedGroup[];
}

function newServer(key: CertifiedKey, o: ServerOptions = {}): TlsConnection {
  return new TlsConnection({
    role: 'server',
    provider: defaultProvider,
    server: {
      certificates: new CertificateStore([key]),
      minVersion: o.minVersion ?? 'TLSv1.2',
      maxVersion: 'TLSv1.3',
      groups: o.groups,
    },
  });
}

function fatalOf(events: TlsEvent[]): TlsEvent & { type: 'fatal' } {
  const f = events.find((e) => e.type === 'fatal');
  assert.ok(f, `expected a fatal event, got ${JSON.stringify(events.map((e) => e.type))}`);
  return f as TlsEvent & { type: 'fatal' };
}

/**
 * Feeds one ClientHello; returns the alert sent, asserting it was sent before any ServerHello:
 * the server's output is the alert record alone.
 */
function refusedHello(key: CertifiedKey, ch: ClientHello, o: ServerOptions = {}): string {
  return refusal(key, ch, o).alert;
}

/** The same, returning the whole fatal event (with its typed failure). */
function refusal(key: CertifiedKey, ch: ClientHello, o: ServerOptions = {}) {
  const server = newServer(key, o);
  server.receive(handshakeRecords(encodeClientHello(ch)));
  const out = records(Buffer.concat(server.takeOutput()));
  const fatal = fatalOf(server.takeEvents());
  assert.deepEqual(
    out.map((r) => r.type),
    [ContentType.alert],
    'the alert comes before any ServerHello',
  );
  return fatal;
}

const rule = (r: PeerMisbehaved): TlsFailure => ({ kind: 'peer-misbehaved', rule: r });

/** Feeds one ClientHello; asserts the server answered it with a ServerHello. */
function acceptedHello(key: CertifiedKey, ch: ClientHello, o: ServerOptions = {}): void {
  const server = newServer(key, o);
  server.receive(handshakeRecords(encodeClientHello(ch)));
  const events = server.takeEvents();
  assert.equal(
    events.find((e) => e.type === 'fatal'),
    undefined,
    JSON.stringify(events),
  );
  const [first] = records(Buffer.concat(server.takeOutput()));
  assert.equal(first?.type, ContentType.handshake);
  assert.equal(first?.body[0], HandshakeType.server_hello);
}

/** A client and server run to completion in memory; the client's record layer forges records. */
function established(key: CertifiedKey) {
  const client = newClient();
  const server = newServer(key);
  client.start();
  for (let i = 0; i < 10; i++) {
    const c = client.takeOutput();
    if (c.length) server.receive(Buffer.concat(c));
    const s = server.takeOutput();
    if (s.length) client.receive(Buffer.concat(s));
    if (!c.length && !s.length) break;
  }
  assert.ok(client.isOpen && server.isOpen, 'handshake completed');
  client.takeEvents();
  server.takeEvents();
  const layer = (
    client as unknown as { records: { protect(t: number, b: Uint8Array, o: Uint8Array[]): void } }
  ).records;
  const seal = (type: number, body: Uint8Array) => {
    const out: Uint8Array[] = [];
    layer.protect(type, body, out);
    return Buffer.concat(out);
  };
  return { client, server, seal };
}

describe('TLS alerts: which failure gets which alert', function () {
  this.timeout(20_000);
  let key: CertifiedKey;
  before(async () => {
    key = await generateSelfSigned({ hostname: 'localhost' });
  });

  describe('the typed causes behind the alerts (failures.ts)', () => {
    it('each named rule maps to its alert through the one map', () => {
      for (const [name, alert] of Object.entries(PEER_MISBEHAVED))
        assert.equal(alertFor(rule(name as PeerMisbehaved)), alert);
      assert.equal(alertFor({ kind: 'invalid-message' }), 'decode_error');
      assert.equal(alertFor({ kind: 'unexpected-message' }), 'unexpected_message');
      assert.equal(
        alertFor({ kind: 'certificate-rejected', reason: 'certificate has expired' }),
        'certificate_expired',
      );
      assert.equal(alertFor({ kind: 'certificate-rejected', reason: 'no trust anchor' }), 'unknown_ca');
    });

    it('a refused legacy_version is legacyVersionTooLow, a short record_size_limit recordSizeLimitTooSmall', () => {
      assert.deepEqual(
        refusal(key, { ...clientHello(), legacyVersion: 0x0300 }).failure,
        rule('legacyVersionTooLow'),
      );
      assert.deepEqual(
        refusal(key, withExt(clientHello(), RSL, Uint8Array.of(0, 63))).failure,
        rule('recordSizeLimitTooSmall'),
      );
      assert.deepEqual(refusal(key, withExt(clientHello(), RSL, new Uint8Array(0))).failure, {
        kind: 'invalid-message',
      });
    });
  });

  describe('ClientHello legacy_version (RFC 8446 §4.1.2, Appendix D.5)', () => {
    for (const v of [0x0300, 0x0000, 0x0200, 0x0002, 0x0100]) {
      it(`refuses 0x${v.toString(16).padStart(4, '0')} with protocol_version, even beside supported_versions`, () => {
        assert.equal(refusedHello(key, { ...clientHello(), legacyVersion: v }), 'protocol_version');
      });
    }

    for (const v of [0x0301, 0x0302, 0x0304]) {
      it(`ignores 0x${v.toString(16).padStart(4, '0')} when supported_versions offers TLS 1.3 (§4.2.1)`, () => {
        acceptedHello(key, { ...clientHello(), legacyVersion: v });
      });
    }
  });

  describe('record_size_limit (RFC 8449 §4), answered before any ServerHello', () => {
    it('refuses a limit below 64 with illegal_parameter', () => {
      assert.equal(refusedHello(key, withExt(clientHello(), RSL, Uint8Array.of(0, 63))), 'illegal_parameter');
    });

    it('refuses an empty extension with decode_error', () => {
      assert.equal(refusedHello(key, withExt(clientHello(), RSL, new Uint8Array(0))), 'decode_error');
    });

    it('refuses a padded extension with decode_error', () => {
      assert.equal(refusedHello(key, withExt(clientHello(), RSL, Uint8Array.of(0x40, 0, 0))), 'decode_error');
    });

    it('refuses an invalid limit in a TLS 1.2 ClientHello too', () => {
      const ch = withExt(clientHello({ maxVersion: 'TLSv1.2' }), RSL, Uint8Array.of(0, 10));
      assert.equal(refusedHello(key, ch), 'illegal_parameter');
    });

    it('accepts 64, the floor', () => {
      acceptedHello(key, withExt(clientHello(), RSL, Uint8Array.of(0, 64)));
    });

    it('refuses a second ClientHello (after HelloRetryRequest) whose limit changed, with illegal_parameter', () => {
      let hellos = 0;
      const client = newClient({
        groups: ['x25519', 'secp256r1'],
        hook: (exts) => [...exts, { type: RSL, data: Uint8Array.of(0x40, hellos++ === 0 ? 0 : 1) }],
      });
      const server = newServer(key, { groups: ['secp256r1'] });
      client.start();
      server.receive(Buffer.concat(client.takeOutput()));
      const hrr = records(Buffer.concat(server.takeOutput()));
      assert.equal(hrr[0]?.body[0], HandshakeType.server_hello, 'a HelloRetryRequest');
      client.receive(Buffer.concat(hrr.map((r) => record(r.type, r.body))));
      server.receive(Buffer.concat(client.takeOutput()));
      assert.equal(hellos, 2);
      assert.equal(fatalOf(server.takeEvents()).alert, 'illegal_parameter');
    });
  });

  describe('version fallback (RFC 7507 §3)', () => {
    it('answers a TLS 1.1 ClientHello with TLS_FALLBACK_SCSV below our minimum with protocol_version', () => {
      const ch12 = clientHello({ maxVersion: 'TLSv1.2' });
      const ch = without(
        { ...ch12, legacyVersion: 0x0302, cipherSuites: [...ch12.cipherSuites, FALLBACK_SCSV] },
        ExtensionType.supported_versions,
      );
      assert.equal(refusedHello(key, ch, { minVersion: 'TLSv1.2' }), 'protocol_version');
    });

    it('answers a client_version 0x0304 hello without supported_versions and with the SCSV with inappropriate_fallback', () => {
      // Without supported_versions TLS 1.2 is the most it can get (RFC 8446 §4.2.1): a fallback.
      const ch12 = clientHello({ maxVersion: 'TLSv1.2' });
      const ch = without(
        { ...ch12, legacyVersion: 0x0304, cipherSuites: [...ch12.cipherSuites, FALLBACK_SCSV] },
        ExtensionType.supported_versions,
      );
      assert.equal(refusedHello(key, ch), 'inappropriate_fallback');
    });

    it('still answers a TLS 1.2 fallback to a TLS 1.3 server with inappropriate_fallback', () => {
      const ch12 = clientHello({ maxVersion: 'TLSv1.2' });
      const ch = without(
        { ...ch12, cipherSuites: [...ch12.cipherSuites, FALLBACK_SCSV] },
        ExtensionType.supported_versions,
      );
      assert.equal(refusedHello(key, ch), 'inappropriate_fallback');
    });
  });

  describe('ClientHello size (issue 19 item 14)', () => {
    it('accepts a ClientHello of about 100 KiB (long suite list and padding)', () => {
      const ch = clientHello();
      const bogus = Array.from({ length: 20_000 }, (_, i) => 0x0a00 + (i % 0x5000));
      const big = withExt(
        { ...ch, cipherSuites: [...ch.cipherSuites, ...bogus] },
        21,
        new Uint8Array(60_000),
      );
      assert.ok(encodeClientHello(big).length > 100_000);
      acceptedHello(key, big);
    });

    it('refuses a ClientHello header announcing more than the encoding allows, with decode_error', () => {
      const server = newServer(key);
      const len = MAX_CLIENT_HELLO + 1;
      server.receive(
        record(ContentType.handshake, Uint8Array.of(1, len >> 16, (len >> 8) & 0xff, len & 0xff)),
      );
      assert.equal(fatalOf(server.takeEvents()).alert, 'decode_error');
    });
  });

  describe('ChangeCipherSpec in TLS 1.3 (RFC 8446 §5, Appendix D.4)', () => {
    it('drops one, answers a second with unexpected_message at once', () => {
      const server = newServer(key);
      const ccs = record(ContentType.change_cipher_spec, Uint8Array.of(1));
      server.receive(Buffer.concat([handshakeRecords(encodeClientHello(clientHello())), ccs]));
      assert.equal(
        server.takeEvents().find((e) => e.type === 'fatal'),
        undefined,
        'the first is dropped',
      );
      server.receive(ccs);
      const fatal = fatalOf(server.takeEvents());
      assert.equal(fatal.alert, 'unexpected_message');
      assert.deepEqual(fatal.failure, rule('secondChangeCipherSpec'));
    });
  });

  describe('after the handshake, records forged under the client key', () => {
    it('answers an empty alert record with unexpected_message', () => {
      const { server, seal } = established(key);
      server.receive(seal(ContentType.alert, new Uint8Array(0)));
      const fatal = fatalOf(server.takeEvents());
      assert.equal(fatal.alert, 'unexpected_message');
      assert.deepEqual(fatal.failure, rule('emptyAlert'));
    });

    it('answers a three-byte alert with decode_error', () => {
      const { server, seal } = established(key);
      server.receive(seal(ContentType.alert, Uint8Array.of(2, 10, 0)));
      assert.equal(fatalOf(server.takeEvents()).alert, 'decode_error');
    });

    it('answers application data between the fragments of a KeyUpdate with unexpected_message (§5.1)', () => {
      const { server, seal } = established(key);
      server.receive(
        Buffer.concat([
          seal(ContentType.handshake, Uint8Array.of(HandshakeType.key_update, 0, 0)),
          seal(ContentType.application_data, Uint8Array.of(0x41)),
          seal(ContentType.handshake, Uint8Array.of(1, 0)),
        ]),
      );
      const events = server.takeEvents();
      assert.equal(
        events.find((e) => e.type === 'data'),
        undefined,
        'the data is not delivered',
      );
      assert.equal(fatalOf(events).alert, 'unexpected_message');
      assert.deepEqual(fatalOf(events).failure, rule('recordInterleavedWithHandshake'));
    });

    it('still takes a KeyUpdate split over two records with nothing between', () => {
      const { server, seal } = established(key);
      server.receive(
        Buffer.concat([
          seal(ContentType.handshake, Uint8Array.of(HandshakeType.key_update, 0, 0)),
          seal(ContentType.handshake, Uint8Array.of(1, 0)),
        ]),
      );
      assert.deepEqual(server.takeEvents(), []);
      assert.ok(server.isOpen);
    });
  });

  describe('Finished of the wrong length (RFC 8446 §4.4.4)', () => {
    /** The client's Finished rewritten before the server reads it. */
    function finishedAs(rewrite: (verifyData: Uint8Array) => Uint8Array): TlsEvent[] {
      const client = newClient();
      const server = newServer(key);
      const layer = (
        client as unknown as { records: { protect(t: number, b: Uint8Array, o: Uint8Array[]): void } }
      ).records;
      const protect = layer.protect.bind(layer);
      layer.protect = (type, body, out) => {
        if (type === ContentType.handshake && body[0] === HandshakeType.finished) {
          const vd = rewrite(body.subarray(4));
          body = Uint8Array.from([HandshakeType.finished, 0, vd.length >> 8, vd.length & 0xff, ...vd]);
        }
        protect(type, body, out);
      };
      client.start();
      server.receive(Buffer.concat(client.takeOutput()));
      client.receive(Buffer.concat(server.takeOutput()));
      server.receive(Buffer.concat(client.takeOutput()));
      return server.takeEvents();
    }

    it('answers a padded Finished with decode_error, not decrypt_error', () => {
      assert.equal(fatalOf(finishedAs((vd) => Uint8Array.from([...vd, 0]))).alert, 'decode_error');
    });

    it('answers a truncated Finished with decode_error', () => {
      assert.equal(fatalOf(finishedAs((vd) => vd.subarray(0, vd.length - 1))).alert, 'decode_error');
    });

    it('answers a Finished of the right length that does not verify with decrypt_error', () => {
      const fatal = fatalOf(finishedAs((vd) => vd.map((b) => b ^ 1)));
      assert.equal(fatal.alert, 'decrypt_error');
      assert.deepEqual(fatal.failure, rule('finishedMismatch'));
    });
  });
});
