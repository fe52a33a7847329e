/**
 * The ClientHello refusals of issue 19 (items 11, 12, 13, 14) over a real socket: a rewritten
 * hello written to a TsTlsEngine server, the alert record read back in the clear (it comes
 * before any ServerHello, so before any key), and accept() rejecting with the same alert.
 */
import assert from 'node:assert/strict';
import { connect as netConnect, createServer, type AddressInfo, type Server } from 'node:net';
import { CertificateStore, TsTlsEngine, generateSelfSigned, type CertifiedKey } from '../src/index.js';
import { ALERT_CODES, type AlertName } from '../src/tls/alerts.js';
import { ContentType, ExtensionType, HandshakeType } from '../src/tls/constants.js';
import { encodeClientHello, type ClientHello } from '../src/tls/messages.js';
import { clientHello, handshakeRecords, records, withExt, without } from './helpers/tls-hello.js';

const RSL = 28;
const FALLBACK_SCSV = 0x5600;

/** Writes one hello, reads until the server closes; the records it sent and how accept() ended. */
async function exchange(port: number, ch: ClientHello, rejections: unknown[]) {
  const before = rejections.length;
  const sock = netConnect({ port, host: '127.0.0.1' });
  sock.on('error', () => undefined);
  const chunks: Buffer[] = [];
  sock.on('data', (d: Buffer) => {
    chunks.push(d);
    // A ServerHello answers: enough seen, the test is over.
    if (records(Buffer.concat(chunks))[0]?.type === ContentType.handshake) sock.destroy();
  });
  sock.on('connect', () => sock.write(handshakeRecords(encodeClientHello(ch))));
  const timer = setTimeout(() => sock.destroy(), 5000);
  await new Promise((r) => sock.on('close', r));
  clearTimeout(timer);
  await new Promise((r) => setImmediate(r));
  return { sent: records(Buffer.concat(chunks)), rejection: rejections.slice(before)[0] };
}

describe('TLS ClientHello refusals over a socket (ts engine)', function () {
  this.timeout(20_000);
  let key: CertifiedKey;
  let server: Server;
  let port: number;
  const rejections: unknown[] = [];

  before(async () => {
    key = await generateSelfSigned({ hostname: 'localhost' });
    const engine = new TsTlsEngine();
    const certificates = new CertificateStore([key]);
    server = createServer((sock) => {
      sock.on('error', () => undefined);
      engine.accept(sock, { certificates, minVersion: 'TLSv1.2', handshakeTimeoutMs: 5000 }).then(
        (s) => s.destroy(),
        (err: unknown) => rejections.push(err),
      );
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(() => server.close());

  async function refused(ch: ClientHello, alert: AlertName): Promise<void> {
    const { sent, rejection } = await exchange(port, ch, rejections);
    assert.deepEqual(
      sent.map((r) => [r.type, ...r.body]),
      [[ContentType.alert, 2, ALERT_CODES[alert]]],
      `one fatal ${alert} alert and nothing else`,
    );
    assert.equal((rejection as { alert?: string } | undefined)?.alert, alert);
  }

  const hex = (v: number) => v.toString(16).padStart(4, '0');
  for (const v of [0x0300, 0x0000, 0x0002]) {
    it(`legacy_version 0x${hex(v)}: protocol_version (RFC 8446 Appendix D.5)`, () =>
      refused({ ...clientHello(), legacyVersion: v }, 'protocol_version'));
  }

  it('record_size_limit 63: illegal_parameter before any ServerHello (RFC 8449 §4)', () =>
    refused(withExt(clientHello(), RSL, Uint8Array.of(0, 63)), 'illegal_parameter'));

  it('record_size_limit padded: decode_error before any ServerHello', () =>
    refused(withExt(clientHello(), RSL, Uint8Array.of(0x40, 0, 0)), 'decode_error'));

  it('TLS 1.1 ClientHello with TLS_FALLBACK_SCSV below our minimum: protocol_version', () => {
    const ch12 = clientHello({ maxVersion: 'TLSv1.2' });
    const ch = { ...ch12, legacyVersion: 0x0302, cipherSuites: [...ch12.cipherSuites, FALLBACK_SCSV] };
    return refused(without(ch, ExtensionType.supported_versions), 'protocol_version');
  });

  it('a ClientHello of about 100 KiB gets a ServerHello (issue 19 item 14)', async () => {
    const ch = clientHello();
    const bogus = Array.from({ length: 20_000 }, (_, i) => 0x0a00 + (i % 0x5000));
    const big = withExt({ ...ch, cipherSuites: [...ch.cipherSuites, ...bogus] }, 21, new Uint8Array(60_000));
    const { sent } = await exchange(port, big, rejections);
    assert.equal(sent[0]?.type, ContentType.handshake);
    assert.equal(sent[0]?.body[0], HandshakeType.server_hello);
  });
});
