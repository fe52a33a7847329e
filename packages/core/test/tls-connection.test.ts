import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CertificateStore, generateSelfSigned, type CertifiedKey } from '../src/index.js';
import { TlsConnection, type TlsConnectionOptions, type TlsEvent } from '../src/tls/connection.js';
import { nobleProvider, nodeProvider, defaultProvider } from '../src/crypto/default-provider.js';
import type { CryptoProvider, NamedGroup } from '../src/crypto/provider.js';

/** Deterministic randomness: SHA-256 in counter mode over a seed. */
export function seededRandom(seed: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const out = new Uint8Array(n);
    for (let off = 0; off < n; off += 32) {
      const block = createHash('sha256').update(`${seed}:${counter++}`).digest();
      out.set(block.subarray(0, Math.min(32, n - off)), off);
    }
    return out;
  };
}

interface Pair {
  client: TlsConnection;
  server: TlsConnection;
  clientEvents: TlsEvent[];
  serverEvents: TlsEvent[];
  /** Every record that crossed, in order, tagged with its sender. */
  wire: Array<{ from: 'client' | 'server'; bytes: Uint8Array }>;
  /** Deliver everything pending, both ways, until quiet. */
  run(): void;
}

function pair(
  key: CertifiedKey,
  opts: {
    provider?: CryptoProvider;
    serverProvider?: CryptoProvider;
    clientGroups?: NamedGroup[];
    serverGroups?: NamedGroup[];
    seed?: string;
    keyUpdateAfterRecords?: number;
    alpn?: [string[], string[]];
  } = {},
): Pair {
  const provider = opts.provider ?? defaultProvider;
  const base = (role: string): Partial<TlsConnectionOptions> => ({
    random: opts.seed ? seededRandom(`${opts.seed}:${role}`) : undefined,
    keyUpdateAfterRecords: opts.keyUpdateAfterRecords,
  });
  const client = new TlsConnection({
    ...base('client'),
    role: 'client',
    provider,
    client: {
      serverName: 'localhost',
      ca: key.certificateChainPem,
      rejectUnauthorized: true,
      groups: opts.clientGroups,
      alpnProtocols: opts.alpn?.[0],
      now: () => new Date(),
    },
  } as TlsConnectionOptions);
  const server = new TlsConnection({
    ...base('server'),
    role: 'server',
    provider: opts.serverProvider ?? provider,
    server: {
      certificates: new CertificateStore([key]),
      groups: opts.serverGroups,
      alpnProtocols: opts.alpn?.[1],
    },
  } as TlsConnectionOptions);
  const p: Pair = {
    client,
    server,
    clientEvents: [],
    serverEvents: [],
    wire: [],
    run() {
      for (let i = 0; i < 100; i++) {
        const c = client.takeOutput();
        const s = server.takeOutput();
        p.clientEvents.push(...client.takeEvents());
        p.serverEvents.push(...server.takeEvents());
        if (c.length === 0 && s.length === 0) return;
        for (const b of c) {
          p.wire.push({ from: 'client', bytes: b });
          server.receive(b);
        }
        for (const b of s) {
          p.wire.push({ from: 'server', bytes: b });
          client.receive(b);
        }
      }
      throw new Error('connections never went quiet');
    },
  };
  client.start();
  p.run();
  return p;
}

const data = (events: TlsEvent[]) =>
  Buffer.concat(events.flatMap((e) => (e.type === 'data' ? [Buffer.from(e.data)] : []))).toString();
const established = (events: TlsEvent[]) => events.find((e) => e.type === 'established');
const fatal = (events: TlsEvent[]) =>
  events.find((e) => e.type === 'fatal') as Extract<TlsEvent, { type: 'fatal' }> | undefined;

describe('TlsConnection (sans-I/O, both sides in memory)', function () {
  let key: CertifiedKey;
  before(async () => {
    key = await generateSelfSigned({ hostname: 'localhost' });
  });

  for (const [name, provider] of [
    ['node', nodeProvider],
    ['noble', nobleProvider],
  ] as const) {
    it(`completes a handshake and carries data both ways (${name} provider)`, () => {
      const p = pair(key, { provider });
      assert.ok(established(p.clientEvents) && established(p.serverEvents));
      p.client.send(Buffer.from('ping'));
      p.server.send(Buffer.from('pong'));
      p.run();
      assert.equal(data(p.serverEvents), 'ping');
      assert.equal(data(p.clientEvents), 'pong');
    });
  }

  it('negotiates each group, including the X25519MLKEM768 hybrid', () => {
    for (const group of ['x25519', 'secp256r1', 'secp384r1', 'X25519MLKEM768'] as const) {
      const p = pair(key, { clientGroups: [group], serverGroups: [group] });
      const r = established(p.serverEvents) as Extract<TlsEvent, { type: 'established' }>;
      assert.equal(r.result.group, group);
    }
  });

  it('asks for another key share with a HelloRetryRequest and a cookie (RFC 8446 §4.1.4)', () => {
    const p = pair(key, { clientGroups: ['x25519', 'secp384r1'], serverGroups: ['secp384r1'] });
    const r = established(p.clientEvents) as Extract<TlsEvent, { type: 'established' }>;
    assert.equal(r.result.group, 'secp384r1');
    const serverHellos = p.wire.filter((w) => w.from === 'server' && w.bytes[0] === 22 && w.bytes[5] === 2);
    assert.equal(serverHellos.length, 2, 'HelloRetryRequest then ServerHello');
    assert.ok(
      Buffer.from(serverHellos[0]!.bytes).includes(
        Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
      ),
    );
  });

  it('produces identical transcripts with the node and noble providers for the same randomness', async () => {
    // Ed25519 signatures are deterministic, so every byte on the wire is fixed by the seeds.
    const ed = await generateSelfSigned({ hostname: 'localhost', keyType: 'ed25519' });
    const groups: NamedGroup[] = ['x25519', 'secp256r1', 'secp384r1'];
    for (const suiteGroups of [groups, ['secp256r1'] as NamedGroup[]]) {
      const run = (provider: CryptoProvider) => {
        const p = pair(ed, { provider, seed: 'same', clientGroups: suiteGroups, serverGroups: suiteGroups });
        p.client.send(Buffer.from('application data'));
        p.server.send(Buffer.from('and back'));
        p.run();
        return p;
      };
      const a = run(nodeProvider);
      const b = run(nobleProvider);
      const hex = (p: Pair) => p.wire.map((w) => `${w.from}:${Buffer.from(w.bytes).toString('hex')}`);
      assert.ok(a.wire.length >= 6);
      assert.deepEqual(hex(a), hex(b));
      const ka = a.client.exportKeyingMaterial(32, 'EXPORTER-test', new Uint8Array(0));
      assert.equal(
        Buffer.from(ka).toString('hex'),
        Buffer.from(b.client.exportKeyingMaterial(32, 'EXPORTER-test', new Uint8Array(0))).toString('hex'),
      );
    }
  });

  it('updates keys: answers a requested KeyUpdate and initiates one before the record limit', () => {
    const p = pair(key, { keyUpdateAfterRecords: 3 });
    for (let i = 0; i < 10; i++) p.client.send(Buffer.from(`m${i};`));
    p.client.requestKeyUpdate();
    p.run();
    p.server.send(Buffer.from('after'));
    p.run();
    assert.equal(data(p.serverEvents), 'm0;m1;m2;m3;m4;m5;m6;m7;m8;m9;');
    assert.equal(data(p.clientEvents), 'after');
    assert.equal(fatal(p.clientEvents), undefined);
    assert.equal(fatal(p.serverEvents), undefined);
  });

  it('negotiates ALPN and refuses a protocol mismatch with no_application_protocol', () => {
    const ok = pair(key, { alpn: [['imap', 'smtp'], ['smtp']] });
    assert.equal(
      (established(ok.clientEvents) as Extract<TlsEvent, { type: 'established' }>).result.alpnProtocol,
      'smtp',
    );
    const bad = pair(key, { alpn: [['imap'], ['smtp']] });
    assert.equal(fatal(bad.serverEvents)?.alert, 'no_application_protocol');
    assert.equal(fatal(bad.clientEvents)?.alert, 'no_application_protocol');
    assert.equal(fatal(bad.clientEvents)?.sentByPeer, true);
  });

  it('closes with close_notify in both directions', () => {
    const p = pair(key);
    p.client.close();
    p.run();
    assert.ok(p.serverEvents.some((e) => e.type === 'peer-closed'));
    p.server.send(Buffer.from('last words'));
    p.server.close();
    p.run();
    assert.equal(data(p.clientEvents), 'last words');
    assert.ok(p.clientEvents.some((e) => e.type === 'peer-closed'));
  });

  it('answers a tampered record with bad_record_mac and closes', () => {
    const p = pair(key);
    p.client.send(Buffer.from('secret'));
    const [rec] = p.client.takeOutput();
    const bad = Uint8Array.from(rec!);
    bad[bad.length - 1] ^= 1;
    p.server.receive(bad);
    const events = p.server.takeEvents();
    assert.equal(fatal(events)?.alert, 'bad_record_mac');
    const alert = p.server.takeOutput();
    assert.equal(alert.length, 1, 'an alert record is sent');
    p.server.receive(Buffer.from('more'));
    assert.deepEqual(p.server.takeEvents(), [], 'nothing is processed after a fatal alert');
  });

  it('rejects a certificate for another name with bad_certificate, and an unknown CA with unknown_ca', async () => {
    const other = await generateSelfSigned({ hostname: 'other.example' });
    const wrongName = new TlsConnection({
      role: 'client',
      provider: defaultProvider,
      client: { serverName: 'localhost', ca: other.certificateChainPem, rejectUnauthorized: true },
    });
    const server = new TlsConnection({
      role: 'server',
      provider: defaultProvider,
      server: { certificates: new CertificateStore([other]) },
    });
    wrongName.start();
    for (let i = 0; i < 5; i++) {
      for (const b of wrongName.takeOutput()) server.receive(b);
      for (const b of server.takeOutput()) wrongName.receive(b);
    }
    assert.equal(fatal(wrongName.takeEvents())?.alert, 'bad_certificate');
    assert.equal(fatal(server.takeEvents())?.sentByPeer, true);

    const untrusted = new TlsConnection({
      role: 'client',
      provider: defaultProvider,
      client: { serverName: 'localhost', ca: other.certificateChainPem, rejectUnauthorized: true },
    });
    const server2 = new TlsConnection({
      role: 'server',
      provider: defaultProvider,
      server: { certificates: new CertificateStore([key]) },
    });
    untrusted.start();
    for (let i = 0; i < 5; i++) {
      for (const b of untrusted.takeOutput()) server2.receive(b);
      for (const b of server2.takeOutput()) untrusted.receive(b);
    }
    assert.equal(fatal(untrusted.takeEvents())?.alert, 'unknown_ca');
  });

  it('refuses a ClientHello without TLS 1.3 with protocol_version', () => {
    const server = new TlsConnection({
      role: 'server',
      provider: defaultProvider,
      server: { certificates: new CertificateStore([key]) },
    });
    // A minimal TLS 1.2 ClientHello: no supported_versions extension.
    const body = Buffer.concat([
      Buffer.from([3, 3]),
      Buffer.alloc(32, 7),
      Buffer.from([0, 0, 2, 0xc0, 0x2f, 1, 0, 0, 0]),
    ]);
    const hs = Buffer.concat([Buffer.from([1, 0, 0, body.length]), body]);
    server.receive(Buffer.concat([Buffer.from([22, 3, 1, 0, hs.length]), hs]));
    assert.equal(fatal(server.takeEvents())?.alert, 'protocol_version');
  });
});
