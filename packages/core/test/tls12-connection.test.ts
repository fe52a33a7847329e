/**
 * TLS 1.2 in the sans-I/O engine (RFC 5246, RFC 7627, RFC 5746, RFC 7905, RFC 8446 §4.1.3):
 * our client against our server in memory, for every suite, both certificate types and both
 * crypto providers, and the refusals a TLS 1.2 server owes: old versions, fallbacks, CBC,
 * missing extended master secret, renegotiation, stripped TLS 1.3.
 */
import assert from 'node:assert/strict';
import { generateSelfSigned, type CertifiedKey } from '../src/index.js';
import { nobleProvider, nodeProvider } from '../src/crypto/default-provider.js';
import { decodeClientHello, encodeClientHello } from '../src/tls/messages.js';
import { TLS12_SUITES } from '../src/tls/tls12-suites.js';
import {
  alertIn,
  clientHelloRecord,
  data,
  established,
  fatal,
  pair,
  parseServerHello,
  serverAnswer,
  supportedVersions,
  tls12Extensions,
} from './tls12-pair.js';

const DOWNGRADE_TLS12 = Buffer.from('444f574e47524401', 'hex');

describe('TLS 1.2 (sans-I/O, both sides in memory)', function () {
  this.timeout(60_000);
  const keys: Record<'ecdsa' | 'rsa', CertifiedKey> = {} as never;
  before(async () => {
    keys.ecdsa = await generateSelfSigned({ hostname: 'localhost', keyType: 'ecdsa-p256' });
    keys.rsa = await generateSelfSigned({ hostname: 'localhost', keyType: 'rsa-2048' });
  });

  for (const suite of TLS12_SUITES) {
    for (const [providerName, provider] of [
      ['node', nodeProvider],
      ['noble', nobleProvider],
    ] as const) {
      it(`${suite.name} with an ${suite.auth.toUpperCase()} certificate completes and carries data both ways (${providerName} provider)`, () => {
        const p = pair(keys[suite.auth], { provider, client: { maxVersion: 'TLSv1.2', suites12: [suite] } });
        const c = established(p.clientEvents);
        const s = established(p.serverEvents);
        assert.ok(c && s, JSON.stringify(fatal(p.clientEvents) ?? fatal(p.serverEvents)));
        assert.equal(c.result.version, 'TLSv1.2');
        assert.equal(c.result.cipherSuite.name, suite.name);
        assert.equal(s.result.cipherSuite.name, suite.name);
        assert.equal(c.result.peerVerified, true);
        p.client.send(Buffer.from('ping'));
        p.server.send(Buffer.alloc(40_000, 'x')); // several records
        p.run();
        assert.equal(data(p.serverEvents), 'ping');
        assert.equal(data(p.clientEvents).length, 40_000);
        // RFC 5705: both sides derive the same keying material; an absent context differs from an empty one.
        const ctx = new Uint8Array(0);
        assert.deepEqual(
          p.client.exportKeyingMaterial(32, 'EXPORTER-test'),
          p.server.exportKeyingMaterial(32, 'EXPORTER-test'),
        );
        assert.deepEqual(
          p.client.exportKeyingMaterial(32, 'EXPORTER-test', ctx),
          p.server.exportKeyingMaterial(32, 'EXPORTER-test', ctx),
        );
        assert.notDeepEqual(
          p.client.exportKeyingMaterial(32, 'EXPORTER-test'),
          p.client.exportKeyingMaterial(32, 'EXPORTER-test', ctx),
        );
      });
    }
  }

  it('signs the ServerKeyExchange with an Ed25519 certificate (RFC 8422 §5.4)', async () => {
    const ed = await generateSelfSigned({ hostname: 'localhost', keyType: 'ed25519' });
    const p = pair(ed, { client: { maxVersion: 'TLSv1.2' } });
    assert.equal(established(p.clientEvents)?.result.signatureScheme, 'ed25519');
  });

  it('signs with rsa_pkcs1_sha256 for a client offering only PKCS#1 (RFC 5246 §7.4.1.4.1)', () => {
    const record = clientHelloRecord({
      suites: [0xc02f],
      extensions: [...tls12Extensions([13]), { type: 13, data: Uint8Array.of(0, 2, 4, 1) }],
    });
    const { output, events } = serverAnswer(keys.rsa, record);
    assert.equal(fatal(events), undefined);
    // ServerECDHParams (named_curve x25519, a 32-byte point), then SignatureAndHashAlgorithm 0x0401.
    const params = output.indexOf(Buffer.from([3, 0x00, 0x1d, 32]));
    assert.ok(params > 0);
    assert.equal(output.readUInt16BE(params + 4 + 32), 0x0401);
  });

  it('negotiates the highest version both allow (minVersion/maxVersion)', () => {
    const cases: Array<[[string, string], [string, string], string]> = [
      [['TLSv1.2', 'TLSv1.3'], ['TLSv1.2', 'TLSv1.3'], 'TLSv1.3'],
      [['TLSv1.2', 'TLSv1.2'], ['TLSv1.2', 'TLSv1.3'], 'TLSv1.2'],
      [['TLSv1.2', 'TLSv1.3'], ['TLSv1.2', 'TLSv1.2'], 'TLSv1.2'],
      [['TLSv1.3', 'TLSv1.3'], ['TLSv1.2', 'TLSv1.3'], 'TLSv1.3'],
      [['TLSv1.2', 'TLSv1.3'], ['TLSv1.3', 'TLSv1.3'], 'TLSv1.3'],
    ];
    for (const [[cmin, cmax], [smin, smax], want] of cases) {
      const p = pair(keys.ecdsa, {
        client: { minVersion: cmin as 'TLSv1.2', maxVersion: cmax as 'TLSv1.2' },
        server: { minVersion: smin as 'TLSv1.2', maxVersion: smax as 'TLSv1.2' },
      });
      assert.equal(
        established(p.clientEvents)?.result.version ?? 'TLSv1.3',
        want,
        `client ${cmin}-${cmax}, server ${smin}-${smax}`,
      );
      assert.ok(established(p.serverEvents));
    }
  });

  it('refuses with protocol_version when the ranges do not meet', () => {
    const a = pair(keys.ecdsa, { client: { minVersion: 'TLSv1.3' }, server: { maxVersion: 'TLSv1.2' } });
    assert.equal(fatal(a.serverEvents)?.alert, 'protocol_version');
    const b = pair(keys.ecdsa, { client: { maxVersion: 'TLSv1.2' }, server: { minVersion: 'TLSv1.3' } });
    assert.equal(fatal(b.serverEvents)?.alert, 'protocol_version');
    assert.equal(fatal(b.clientEvents)?.sentByPeer, true);
  });

  it('rejects a minVersion above maxVersion when the connection is made', () => {
    assert.throws(
      () => pair(keys.ecdsa, { client: { minVersion: 'TLSv1.3', maxVersion: 'TLSv1.2' } }),
      /minVersion/,
    );
  });

  it('marks ServerHello.random with the downgrade sentinel only when the server could have done TLS 1.3 (RFC 8446 §4.1.3)', () => {
    const record = clientHelloRecord({});
    const marked = parseServerHello(serverAnswer(keys.ecdsa, record).output);
    assert.equal(marked.version, 0x0303);
    assert.deepEqual(marked.random.subarray(24), DOWNGRADE_TLS12);
    const unmarked = parseServerHello(serverAnswer(keys.ecdsa, record, { maxVersion: 'TLSv1.2' }).output);
    assert.notDeepEqual(unmarked.random.subarray(24), DOWNGRADE_TLS12);
  });

  it('our client detects TLS 1.3 stripped from its ClientHello by the sentinel, with illegal_parameter', () => {
    // An attacker removes supported_versions: the server, able to do 1.3, negotiates 1.2 and says so.
    const strip = (from: string, record: Uint8Array, index: number) => {
      if (from !== 'client' || index !== 0) return record;
      const ch = decodeClientHello(record.subarray(9));
      const hs = encodeClientHello({ ...ch, extensions: ch.extensions.filter((e) => e.type !== 43) });
      return new Uint8Array(Buffer.concat([Buffer.of(22, 3, 1, hs.length >> 8, hs.length & 0xff), hs]));
    };
    const p = pair(keys.ecdsa, { client: { maxVersion: 'TLSv1.3' }, tamper: strip });
    assert.equal(fatal(p.clientEvents)?.alert, 'illegal_parameter');
    assert.match(fatal(p.clientEvents)!.message, /downgrade/);
    assert.equal(established(p.clientEvents), undefined);
  });

  it('answers TLS_FALLBACK_SCSV from a client below our highest version with inappropriate_fallback (RFC 7507)', () => {
    const record = clientHelloRecord({ suites: [0xc02b, 0x5600] });
    assert.equal(fatal(serverAnswer(keys.ecdsa, record).events)?.alert, 'inappropriate_fallback');
    // A server whose highest version is 1.2 has nothing to object to.
    assert.equal(fatal(serverAnswer(keys.ecdsa, record, { maxVersion: 'TLSv1.2' }).events), undefined);
  });

  it('answers SSL 3.0, TLS 1.0 and TLS 1.1 with protocol_version', () => {
    for (const version of [0x0300, 0x0301, 0x0302]) {
      const { output, events } = serverAnswer(
        keys.ecdsa,
        clientHelloRecord({ version, recordVersion: version }),
      );
      assert.equal(fatal(events)?.alert, 'protocol_version', `0x${version.toString(16)}`);
      assert.equal(alertIn(output), 70);
    }
    const listed = serverAnswer(
      keys.ecdsa,
      clientHelloRecord({ extensions: [...tls12Extensions(), supportedVersions([0x0302, 0x0301])] }),
    );
    assert.equal(fatal(listed.events)?.alert, 'protocol_version');
  });

  it('tolerates version-intolerance probes: client_version 0x0304 and above without supported_versions gets TLS 1.2', () => {
    for (const version of [0x0304, 0x0305, 0x03ff]) {
      const { output, events } = serverAnswer(
        keys.ecdsa,
        clientHelloRecord({ version, recordVersion: 0x0301 }),
      );
      assert.equal(fatal(events), undefined, `0x${version.toString(16)}`);
      assert.equal(parseServerHello(output).version, 0x0303);
    }
    // Unknown future versions in supported_versions are skipped, not fatal.
    const future = serverAnswer(
      keys.ecdsa,
      clientHelloRecord({ extensions: [...tls12Extensions(), supportedVersions([0x7a7a, 0x0305, 0x0303])] }),
    );
    assert.equal(fatal(future.events), undefined);
    assert.equal(parseServerHello(future.output).version, 0x0303);
  });

  it('has no 128-cipher limit: a ClientHello listing 200 suites is answered', () => {
    const suites = [...Array.from({ length: 199 }, (_, i) => 0x0100 + i), 0xc02b];
    const { output, events } = serverAnswer(keys.ecdsa, clientHelloRecord({ suites }));
    assert.equal(fatal(events), undefined);
    assert.equal(parseServerHello(output).suite, 0xc02b);
  });

  it('refuses a client offering only CBC suites with handshake_failure', () => {
    const { output, events } = serverAnswer(
      keys.rsa,
      clientHelloRecord({ suites: [0xc013, 0xc014, 0x002f, 0x0035] }),
    );
    assert.equal(fatal(events)?.alert, 'handshake_failure');
    assert.equal(alertIn(output), 40);
  });

  it('refuses a client without extended_master_secret with handshake_failure (RFC 7627 §5.3)', () => {
    const p = pair(keys.ecdsa, {
      client: { maxVersion: 'TLSv1.2', extensionHook: (_pt, exts) => exts.filter((e) => e.type !== 23) },
    });
    assert.equal(fatal(p.serverEvents)?.alert, 'handshake_failure');
    assert.match(fatal(p.serverEvents)!.message, /extended_master_secret/);
  });

  it('our client refuses a server without extended_master_secret with handshake_failure', () => {
    const p = pair(keys.ecdsa, {
      client: { maxVersion: 'TLSv1.2' },
      server: { extensionHook: (_pt, exts) => exts.filter((e) => e.type !== 23) },
    });
    assert.equal(fatal(p.clientEvents)?.alert, 'handshake_failure');
    assert.equal(established(p.clientEvents), undefined);
  });

  it('refuses a non-empty renegotiation_info on the initial handshake (RFC 5746 §3.6)', () => {
    const record = clientHelloRecord({
      extensions: [
        ...tls12Extensions([0xff01]),
        { type: 0xff01, data: Uint8Array.of(12, ...new Uint8Array(12)) },
      ],
    });
    assert.equal(fatal(serverAnswer(keys.ecdsa, record).events)?.alert, 'handshake_failure');
  });

  it('refuses a client without uncompressed points with illegal_parameter (RFC 8422 §5.1.2)', () => {
    const record = clientHelloRecord({
      extensions: [...tls12Extensions([11]), { type: 11, data: Uint8Array.of(1, 1) }],
    });
    assert.equal(fatal(serverAnswer(keys.ecdsa, record).events)?.alert, 'illegal_parameter');
  });

  it('prefers our suite order, but gives ChaCha20 to a client that lists it first among its AEAD suites', () => {
    const pick = (suites: number[]) =>
      parseServerHello(serverAnswer(keys.ecdsa, clientHelloRecord({ suites })).output).suite;
    assert.equal(pick([0xc02c, 0xc02b, 0xcca9]), 0xc02b, 'AES-128-GCM over the client’s AES-256-GCM');
    assert.equal(pick([0xcca9, 0xc02b, 0xc02c]), 0xcca9, 'ChaCha20 first: ChaCha20');
    assert.equal(
      pick([0x1301, 0xc013, 0xcca8, 0xcca9, 0xc02b]),
      0xcca9,
      'TLS 1.3, CBC and RSA suites do not count',
    );
    assert.equal(pick([0xc02c]), 0xc02c);
  });

  it('refuses renegotiation both ways with a no_renegotiation warning and stays open (RFC 5746 §4)', () => {
    const p = pair(keys.ecdsa, { client: { maxVersion: 'TLSv1.2' } });
    assert.ok(established(p.serverEvents));
    const protect = (conn: unknown, type: number, body: Uint8Array) => {
      const out: Uint8Array[] = [];
      (conn as { records: { protect(t: number, b: Uint8Array, o: Uint8Array[]): void } }).records.protect(
        type,
        body,
        out,
      );
      return out;
    };
    // A HelloRequest to our client.
    for (const r of protect(p.server, 22, Uint8Array.of(0, 0, 0, 0))) p.client.receive(r);
    const fromClient = p.client.takeOutput();
    assert.equal(fromClient.length, 1);
    assert.equal(fatal(p.client.takeEvents()), undefined);
    assert.ok(p.client.isOpen);
    for (const r of fromClient) p.server.receive(r);
    assert.equal(
      fatal(p.server.takeEvents())?.alert,
      'no_renegotiation',
      'the server asked, so the refusal ends it',
    );

    // A renegotiating ClientHello to our server.
    const q = pair(keys.rsa, { client: { maxVersion: 'TLSv1.2' } });
    const hello = clientHelloRecord({}).subarray(5);
    for (const r of protect(q.client, 22, hello)) q.server.receive(r);
    assert.equal(fatal(q.server.takeEvents()), undefined);
    assert.ok(q.server.isOpen);
    const answer = q.server.takeOutput();
    q.server.send(Buffer.from('still here'));
    for (const r of [...answer, ...q.server.takeOutput()]) q.client.receive(r);
    const evs = q.client.takeEvents();
    assert.equal(fatal(evs)?.alert, 'no_renegotiation');
  });

  it('answers a tampered protected record with bad_record_mac', () => {
    const p = pair(keys.ecdsa, { client: { maxVersion: 'TLSv1.2' } });
    p.client.send(Buffer.from('secret'));
    const [rec] = p.client.takeOutput();
    const bad = Uint8Array.from(rec!);
    bad[bad.length - 1]! ^= 1;
    p.server.receive(bad);
    assert.equal(fatal(p.server.takeEvents())?.alert, 'bad_record_mac');
  });

  it('refuses a record whose version is not 0x0303 once TLS 1.2 is negotiated, with protocol_version', () => {
    for (const side of ['server', 'client'] as const) {
      const p = pair(keys.ecdsa, { client: { maxVersion: 'TLSv1.2' } });
      const from = side === 'server' ? p.client : p.server;
      const to = side === 'server' ? p.server : p.client;
      from.send(Buffer.from('data'));
      const [rec] = from.takeOutput();
      const odd = Uint8Array.from(rec!);
      odd[2] = 0x01; // TLS 1.0's record version on a TLS 1.2 connection
      to.receive(odd);
      assert.equal(fatal(to.takeEvents())?.alert, 'protocol_version', side);
    }
  });

  it('carries the 8-byte explicit nonce in GCM records and none in ChaCha20 ones (RFC 5288 §3, RFC 7905 §2)', () => {
    for (const [code, overhead] of [
      [0xc02b, 8 + 16],
      [0xcca9, 16],
    ] as const) {
      const p = pair(keys.ecdsa, {
        client: { maxVersion: 'TLSv1.2', suites12: TLS12_SUITES.filter((s) => s.code === code) },
      });
      p.client.send(Buffer.from('0123456789'));
      const [rec] = p.client.takeOutput();
      assert.equal(rec!.length, 5 + 10 + overhead);
      assert.equal(rec![0], 23, 'the real content type stays outside');
    }
  });
});
