/**
 * Handshake message codec (RFC 8446 §4). Decoders are strict: every vector is bounds-checked,
 * trailing bytes are a decode_error, duplicate extensions an illegal_parameter (§4.2).
 */
import { Reader, Writer } from './codec.js';
import { decodeError, misbehaved } from './failures.js';
import { ExtensionType, HRR_RANDOM, HandshakeType } from './constants.js';
import { bytesEqual } from './codec.js';

export interface Extension {
  readonly type: number;
  readonly data: Uint8Array;
}

export interface ClientHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuites: readonly number[];
  readonly compressionMethods: Uint8Array;
  readonly extensions: readonly Extension[];
}

export interface ServerHello {
  readonly legacyVersion: number;
  readonly random: Uint8Array;
  readonly sessionId: Uint8Array;
  readonly cipherSuite: number;
  readonly compressionMethod: number;
  readonly extensions: readonly Extension[];
}

export interface CertificateEntry {
  readonly data: Uint8Array;
  readonly extensions: readonly Extension[];
}

export interface CertificateMessage {
  readonly context: Uint8Array;
  readonly entries: readonly CertificateEntry[];
}

export interface KeyShareEntry {
  readonly group: number;
  readonly keyExchange: Uint8Array;
}

/** Frame a handshake message: msg_type, uint24 length, body (RFC 8446 §4). */
export function encodeHandshake(type: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  out[0] = type;
  out[1] = (body.length >> 16) & 0xff;
  out[2] = (body.length >> 8) & 0xff;
  out[3] = body.length & 0xff;
  out.set(body, 4);
  return out;
}

export function findExtension(exts: readonly Extension[], type: number): Uint8Array | undefined {
  for (const e of exts) if (e.type === type) return e.data;
  return undefined;
}

function decodeExtensions(r: Reader, min: number, what: string): Extension[] {
  const block = r.sub(2, min, 0xffff, `${what} extensions`);
  const out: Extension[] = [];
  const seen = new Set<number>();
  while (!block.atEnd) {
    const type = block.u16();
    const data = block.vec(2, 0, 0xffff, `extension ${type}`);
    if (seen.has(type)) throw misbehaved('duplicateEntry', `duplicate extension ${type} in ${what}`);
    seen.add(type);
    out.push({ type, data });
  }
  return out;
}

function encodeExtensions(exts: readonly Extension[]): Writer {
  const w = new Writer();
  for (const e of exts) w.u16(e.type).vec(2, e.data);
  return w;
}

export function decodeClientHello(body: Uint8Array): ClientHello {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vec(1, 0, 32, 'legacy_session_id');
  const suites = r.sub(2, 2, 0xfffe, 'cipher_suites');
  if (suites.remaining % 2) throw decodeError('cipher_suites: odd length');
  const cipherSuites: number[] = [];
  while (!suites.atEnd) cipherSuites.push(suites.u16());
  const compressionMethods = r.vec(1, 1, 0xff, 'legacy_compression_methods');
  // Pre-TLS 1.3 hellos may omit the extensions block entirely (RFC 5246 §7.4.1.2).
  const extensions = r.atEnd ? [] : decodeExtensions(r, 0, 'ClientHello');
  r.end('ClientHello');
  return { legacyVersion, random, sessionId, cipherSuites, compressionMethods, extensions };
}

export function encodeClientHello(ch: ClientHello): Uint8Array {
  const w = new Writer().u16(ch.legacyVersion).raw(ch.random).vec(1, ch.sessionId);
  const suites = new Writer();
  for (const s of ch.cipherSuites) suites.u16(s);
  w.vec(2, suites).vec(1, ch.compressionMethods).vec(2, encodeExtensions(ch.extensions));
  return encodeHandshake(HandshakeType.client_hello, w.finish());
}

export function decodeServerHello(body: Uint8Array): ServerHello {
  const r = new Reader(body);
  const legacyVersion = r.u16();
  const random = r.bytes(32);
  const sessionId = r.vec(1, 0, 32, 'legacy_session_id_echo');
  const cipherSuite = r.u16();
  const compressionMethod = r.u8();
  // A TLS 1.2 ServerHello may omit the block (RFC 5246 §7.4.1.3); a 1.3 one needs supported_versions.
  const extensions = r.atEnd ? [] : decodeExtensions(r, 0, 'ServerHello');
  r.end('ServerHello');
  return { legacyVersion, random, sessionId, cipherSuite, compressionMethod, extensions };
}

export function encodeServerHello(sh: ServerHello): Uint8Array {
  const w = new Writer()
    .u16(sh.legacyVersion)
    .raw(sh.random)
    .vec(1, sh.sessionId)
    .u16(sh.cipherSuite)
    .u8(sh.compressionMethod)
    .vec(2, encodeExtensions(sh.extensions));
  return encodeHandshake(HandshakeType.server_hello, w.finish());
}

export function isHelloRetryRequest(sh: ServerHello): boolean {
  return bytesEqual(sh.random, HRR_RANDOM);
}

export function decodeEncryptedExtensions(body: Uint8Array): Extension[] {
  const r = new Reader(body);
  const exts = decodeExtensions(r, 0, 'EncryptedExtensions');
  r.end('EncryptedExtensions');
  return exts;
}

export function encodeEncryptedExtensions(exts: readonly Extension[]): Uint8Array {
  return encodeHandshake(
    HandshakeType.encrypted_extensions,
    new Writer().vec(2, encodeExtensions(exts)).finish(),
  );
}

export function decodeCertificate(body: Uint8Array): CertificateMessage {
  const r = new Reader(body);
  const context = r.vec(1, 0, 0xff, 'certificate_request_context');
  const list = r.sub(3, 0, 0xffffff, 'certificate_list');
  const entries: CertificateEntry[] = [];
  while (!list.atEnd) {
    const data = list.vec(3, 1, 0xffffff, 'cert_data');
    // Per-entry extensions are not subject to the duplicate rule's "block" minimum.
    const extensions = decodeExtensions(list, 0, 'CertificateEntry');
    entries.push({ data, extensions });
  }
  r.end('Certificate');
  return { context, entries };
}

export function encodeCertificate(msg: CertificateMessage): Uint8Array {
  const list = new Writer();
  for (const e of msg.entries) list.vec(3, e.data).vec(2, encodeExtensions(e.extensions));
  return encodeHandshake(HandshakeType.certificate, new Writer().vec(1, msg.context).vec(3, list).finish());
}

export function decodeCertificateVerify(body: Uint8Array): { scheme: number; signature: Uint8Array } {
  const r = new Reader(body);
  const scheme = r.u16();
  const signature = r.vec(2, 1, 0xffff, 'signature');
  r.end('CertificateVerify');
  return { scheme, signature };
}

export function encodeCertificateVerify(scheme: number, signature: Uint8Array): Uint8Array {
  return encodeHandshake(
    HandshakeType.certificate_verify,
    new Writer().u16(scheme).vec(2, signature).finish(),
  );
}

export function decodeCertificateRequest(body: Uint8Array): { context: Uint8Array; extensions: Extension[] } {
  const r = new Reader(body);
  const context = r.vec(1, 0, 0xff, 'certificate_request_context');
  const extensions = decodeExtensions(r, 2, 'CertificateRequest');
  r.end('CertificateRequest');
  return { context, extensions };
}

/** NewSessionTicket (RFC 8446 §4.6.1). */
export interface NewSessionTicket {
  /** Seconds. */
  readonly lifetime: number;
  readonly ageAdd: number;
  readonly nonce: Uint8Array;
  readonly ticket: Uint8Array;
  readonly extensions: readonly Extension[];
}

export function decodeNewSessionTicket(body: Uint8Array): NewSessionTicket {
  const r = new Reader(body);
  const lifetime = r.u32();
  const ageAdd = r.u32();
  const nonce = r.vec(1, 0, 255, 'ticket_nonce');
  const ticket = r.vec(2, 1, 0xffff, 'ticket');
  const extensions = decodeExtensions(r, 0, 'NewSessionTicket');
  r.end('NewSessionTicket');
  return { lifetime, ageAdd, nonce, ticket, extensions };
}

export function encodeNewSessionTicket(nst: NewSessionTicket): Uint8Array {
  const w = new Writer()
    .u32(nst.lifetime)
    .u32(nst.ageAdd)
    .vec(1, nst.nonce)
    .vec(2, nst.ticket)
    .vec(2, encodeExtensions(nst.extensions));
  return encodeHandshake(HandshakeType.new_session_ticket, w.finish());
}

/** KeyUpdate (RFC 8446 §4.6.3): true when the peer asks us to update too. */
export function decodeKeyUpdate(body: Uint8Array): boolean {
  const r = new Reader(body);
  const v = r.u8();
  r.end('KeyUpdate');
  if (v > 1) throw misbehaved('badKeyUpdate', `KeyUpdate request_update ${v}`);
  return v === 1;
}

export function encodeKeyUpdate(requestUpdate: boolean): Uint8Array {
  return encodeHandshake(HandshakeType.key_update, Uint8Array.of(requestUpdate ? 1 : 0));
}

// ---- extension bodies ----

/** RFC 6066 §3: the host_name entry (one per type); returns undefined when absent. */
export function decodeServerName(data: Uint8Array): string | undefined {
  const r = new Reader(data);
  const list = r.sub(2, 1, 0xffff, 'server_name_list');
  r.end('server_name');
  let name: string | undefined;
  while (!list.atEnd) {
    const type = list.u8();
    const value = list.vec(2, 1, 0xffff, 'host_name');
    if (type !== 0) continue;
    if (name !== undefined) throw misbehaved('duplicateEntry', 'two host_name entries');
    // Hostnames are ASCII (RFC 6066 §3); anything else is rejected rather than guessed.
    for (const b of value) if (b < 0x21 || b > 0x7e) throw decodeError('host_name is not printable ASCII');
    name = Buffer.from(value).toString('latin1');
  }
  return name;
}

export function encodeServerName(name: string): Uint8Array {
  const entry = new Writer().u8(0).vec(2, Buffer.from(name, 'latin1'));
  return new Writer().vec(2, entry).finish();
}

export function decodeU16List(data: Uint8Array, prefix: 1 | 2, min: number, what: string): number[] {
  const r = new Reader(data);
  const list = r.sub(prefix, min, prefix === 1 ? 0xfe : 0xfffe, what);
  r.end(what);
  if (list.remaining % 2) throw decodeError(`${what}: odd length`);
  const out: number[] = [];
  while (!list.atEnd) out.push(list.u16());
  return out;
}

export function encodeU16List(values: readonly number[], prefix: 1 | 2): Uint8Array {
  const list = new Writer();
  for (const v of values) list.u16(v);
  return new Writer().vec(prefix, list).finish();
}

/** RFC 7301 §3.1 ProtocolNameList. */
export function decodeAlpn(data: Uint8Array): string[] {
  const r = new Reader(data);
  const list = r.sub(2, 2, 0xffff, 'protocol_name_list');
  r.end('alpn');
  const out: string[] = [];
  while (!list.atEnd) out.push(Buffer.from(list.vec(1, 1, 0xff, 'protocol_name')).toString('latin1'));
  return out;
}

export function encodeAlpn(protocols: readonly string[]): Uint8Array {
  const list = new Writer();
  for (const p of protocols) list.vec(1, Buffer.from(p, 'latin1'));
  return new Writer().vec(2, list).finish();
}

export function decodeClientKeyShares(data: Uint8Array): KeyShareEntry[] {
  const r = new Reader(data);
  const list = r.sub(2, 0, 0xffff, 'client_shares');
  r.end('key_share');
  const out: KeyShareEntry[] = [];
  const seen = new Set<number>();
  while (!list.atEnd) {
    const group = list.u16();
    const keyExchange = list.vec(2, 1, 0xffff, 'key_exchange');
    // RFC 8446 §4.2.8: at most one share per group.
    if (seen.has(group)) throw misbehaved('duplicateEntry', `two key shares for group ${group}`);
    seen.add(group);
    out.push({ group, keyExchange });
  }
  return out;
}

export function encodeClientKeyShares(shares: readonly KeyShareEntry[]): Uint8Array {
  const list = new Writer();
  for (const s of shares) list.u16(s.group).vec(2, s.keyExchange);
  return new Writer().vec(2, list).finish();
}

export function decodeServerKeyShare(data: Uint8Array): KeyShareEntry {
  const r = new Reader(data);
  const group = r.u16();
  const keyExchange = r.vec(2, 1, 0xffff, 'key_exchange');
  r.end('key_share');
  return { group, keyExchange };
}

export function encodeServerKeyShare(entry: KeyShareEntry): Uint8Array {
  return new Writer().u16(entry.group).vec(2, entry.keyExchange).finish();
}

export function decodeU16(data: Uint8Array, what: string): number {
  const r = new Reader(data);
  const v = r.u16();
  r.end(what);
  return v;
}

export function u16Bytes(v: number): Uint8Array {
  return Uint8Array.of((v >> 8) & 0xff, v & 0xff);
}

export function decodeCookie(data: Uint8Array): Uint8Array {
  const r = new Reader(data);
  const c = r.vec(2, 1, 0xffff, 'cookie');
  r.end('cookie');
  return c;
}

export { ExtensionType };
