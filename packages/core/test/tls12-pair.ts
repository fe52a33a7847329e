/**
 * Sans-I/O pairs for the TLS 1.2 tests: our client and our server in memory, with a hook on
 * every record that crosses (to drop, rewrite or inspect it), and hand-made ClientHellos for
 * the server-only refusals.
 */
import { CertificateStore, type CertifiedKey } from '../src/index.js';
import { TlsConnection, type TlsEvent } from '../src/tls/connection.js';
import type { ClientHandshakeConfig } from '../src/tls/client-handshake.js';
import type { ServerHandshakeConfig } from '../src/tls/server-handshake.js';
import type { CryptoProvider } from '../src/crypto/provider.js';
import { defaultProvider } from '../src/crypto/default-provider.js';
import { encodeClientHello, type Extension } from '../src/tls/messages.js';

export interface Pair {
  client: TlsConnection;
  server: TlsConnection;
  clientEvents: TlsEvent[];
  serverEvents: TlsEvent[];
  wire: Array<{ from: 'client' | 'server'; bytes: Uint8Array }>;
  run(): void;
}

export interface PairOptions {
  provider?: CryptoProvider;
  client?: Partial<ClientHandshakeConfig>;
  server?: Partial<ServerHandshakeConfig>;
  /** Rewrite (or drop, with undefined) a record on its way. */
  tamper?: (from: 'client' | 'server', record: Uint8Array, index: number) => Uint8Array | undefined;
}

export function pair(key: CertifiedKey, o: PairOptions = {}): Pair {
  const provider = o.provider ?? defaultProvider;
  const client = new TlsConnection({
    role: 'client',
    provider,
    client: {
      serverName: 'localhost',
      ca: key.certificateChainPem,
      rejectUnauthorized: true,
      minVersion: 'TLSv1.2',
      ...o.client,
    },
  });
  const server = new TlsConnection({
    role: 'server',
    provider,
    server: { certificates: new CertificateStore([key]), minVersion: 'TLSv1.2', ...o.server },
  });
  let index = 0;
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
        for (const [from, records, to] of [
          ['client', c, server],
          ['server', s, client],
        ] as const) {
          for (const r of records) {
            const b = o.tamper ? o.tamper(from, r, index++) : r;
            if (!b) continue;
            p.wire.push({ from, bytes: b });
            to.receive(b);
          }
        }
      }
      throw new Error('connections never went quiet');
    },
  };
  client.start();
  p.run();
  return p;
}

export const established = (events: TlsEvent[]) =>
  events.find((e) => e.type === 'established') as Extract<TlsEvent, { type: 'established' }> | undefined;
export const fatal = (events: TlsEvent[]) =>
  events.find((e) => e.type === 'fatal') as Extract<TlsEvent, { type: 'fatal' }> | undefined;
export const data = (events: TlsEvent[]) =>
  Buffer.concat(events.flatMap((e) => (e.type === 'data' ? [Buffer.from(e.data)] : []))).toString();

const u16list = (values: number[], prefix: 1 | 2) => {
  const body = Buffer.alloc(values.length * 2);
  values.forEach((v, i) => body.writeUInt16BE(v, i * 2));
  const len = prefix === 1 ? Buffer.of(body.length) : Buffer.of(body.length >> 8, body.length & 0xff);
  return new Uint8Array(Buffer.concat([len, body]));
};

/** Extensions a plain TLS 1.2 client sends: groups, schemes, points, EMS, renegotiation_info. */
export function tls12Extensions(omit: number[] = []): Extension[] {
  const all: Extension[] = [
    { type: 10, data: u16list([0x001d, 0x0017], 2) },
    { type: 13, data: u16list([0x0403, 0x0804, 0x0401], 2) },
    { type: 11, data: Uint8Array.of(1, 0) },
    { type: 23, data: new Uint8Array(0) },
    { type: 0xff01, data: Uint8Array.of(0) },
  ];
  return all.filter((e) => !omit.includes(e.type));
}

export function supportedVersions(versions: number[]): Extension {
  return { type: 43, data: u16list(versions, 1) };
}

/** One plaintext record carrying a hand-made ClientHello. */
export function clientHelloRecord(o: {
  version?: number;
  recordVersion?: number;
  suites?: number[];
  extensions?: Extension[];
}): Uint8Array {
  const hs = encodeClientHello({
    legacyVersion: o.version ?? 0x0303,
    random: new Uint8Array(32).fill(7),
    sessionId: new Uint8Array(0),
    cipherSuites: o.suites ?? [0xc02b, 0xc02f],
    compressionMethods: Uint8Array.of(0),
    extensions: o.extensions ?? tls12Extensions(),
  });
  const rv = o.recordVersion ?? 0x0301;
  return new Uint8Array(
    Buffer.concat([Buffer.of(22, rv >> 8, rv & 0xff, hs.length >> 8, hs.length & 0xff), hs]),
  );
}

/** A server fed one ClientHello: what it sent back and what it reported. */
export function serverAnswer(
  key: CertifiedKey,
  record: Uint8Array,
  config: Partial<ServerHandshakeConfig> = {},
) {
  const server = new TlsConnection({
    role: 'server',
    provider: defaultProvider,
    server: { certificates: new CertificateStore([key]), minVersion: 'TLSv1.2', ...config },
  });
  server.receive(record);
  return { output: Buffer.concat(server.takeOutput()), events: server.takeEvents(), server };
}

/** The ServerHello a server answered with: its version, random and suite (first record only). */
export function parseServerHello(output: Buffer): { version: number; random: Buffer; suite: number } {
  if (output[0] !== 22 || output[5] !== 2)
    throw new Error(`not a ServerHello: ${output.subarray(0, 8).toString('hex')}`);
  const body = output.subarray(9);
  const sidLen = body[34]!;
  return {
    version: body.readUInt16BE(0),
    random: body.subarray(2, 34),
    suite: body.readUInt16BE(35 + sidLen),
  };
}

/** The alert description in a plaintext alert record, if `output` is one. */
export function alertIn(output: Buffer): number | undefined {
  return output[0] === 21 && output.length === 7 ? output[6] : undefined;
}
