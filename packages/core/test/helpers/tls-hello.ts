/**
 * Plaintext TLS records and our client's real ClientHello, for tests that rewrite a hello field
 * by field and watch which alert the server sends.
 */
import { defaultProvider } from '../../src/crypto/default-provider.js';
import type { NamedGroup } from '../../src/crypto/provider.js';
import { TlsConnection } from '../../src/tls/connection.js';
import { ContentType } from '../../src/tls/constants.js';
import type { TlsVersion } from '../../src/tls/engine.js';
import { decodeClientHello, type ClientHello, type Extension } from '../../src/tls/messages.js';

export interface ClientOptions {
  hook?: (exts: Extension[]) => Extension[];
  groups?: NamedGroup[];
  maxVersion?: TlsVersion;
}

/** Our sans-I/O client (no verification: these tests are about the server's answers). */
export function newClient(o: ClientOptions = {}): TlsConnection {
  return new TlsConnection({
    role: 'client',
    provider: defaultProvider,
    client: {
      serverName: 'localhost',
      rejectUnauthorized: false,
      minVersion: 'TLSv1.2',
      maxVersion: o.maxVersion ?? 'TLSv1.3',
      groups: o.groups,
      extensionHook: o.hook ? (_point, exts) => o.hook!(exts) : undefined,
    },
  });
}

/** Splits plaintext records (the handshake's first flight is unprotected). */
export function records(bytes: Uint8Array): Array<{ type: number; body: Uint8Array }> {
  const out = [];
  for (let off = 0; off + 5 <= bytes.length;) {
    const len = (bytes[off + 3]! << 8) | bytes[off + 4]!;
    out.push({ type: bytes[off]!, body: bytes.subarray(off + 5, off + 5 + len) });
    off += 5 + len;
  }
  return out;
}

export function record(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + body.length);
  out.set([type, 3, 3, body.length >> 8, body.length & 0xff]);
  out.set(body, 5);
  return out;
}

/** Handshake bytes in records of at most 2^14 bytes (RFC 8446 §5.1). */
export function handshakeRecords(message: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  for (let off = 0; off < message.length; off += 1 << 14)
    parts.push(record(ContentType.handshake, message.subarray(off, off + (1 << 14))));
  return Buffer.concat(parts);
}

/** Our client's real ClientHello, decoded, for a test to rewrite. */
export function clientHello(o: ClientOptions = {}): ClientHello {
  const c = newClient(o);
  c.start();
  const [rec] = records(Buffer.concat(c.takeOutput()));
  return decodeClientHello(rec!.body.subarray(4));
}

export const withExt = (ch: ClientHello, type: number, data: Uint8Array): ClientHello => ({
  ...ch,
  extensions: [...ch.extensions.filter((e) => e.type !== type), { type, data }],
});

export const without = (ch: ClientHello, type: number): ClientHello => ({
  ...ch,
  extensions: ch.extensions.filter((e) => e.type !== type),
});
