/**
 * TLS 1.2 handshake message codecs (RFC 5246 §7.4, RFC 8422 §5): Certificate without the TLS 1.3
 * context and per-entry extensions, the ECDHE ServerKeyExchange and ClientKeyExchange,
 * ServerHelloDone, HelloRequest, and the 1.2-only extension bodies. Strict as messages.ts is:
 * any length mismatch is a decode_error.
 */
import { decodeError, misbehaved } from './failures.js';
import { Reader, Writer, concatBytes } from './codec.js';
import { HandshakeType } from './constants.js';
import { encodeHandshake } from './messages.js';
import { HandshakeType12 } from './tls12-suites.js';

/** RFC 5246 §7.4.2: certificate_list<0..2^24-1> of ASN.1Cert<1..2^24-1>. */
export function encodeCertificate12(chain: readonly Uint8Array[]): Uint8Array {
  const list = new Writer();
  for (const c of chain) list.vec(3, c);
  return encodeHandshake(HandshakeType.certificate, new Writer().vec(3, list).finish());
}

export function decodeCertificate12(body: Uint8Array): Uint8Array[] {
  const r = new Reader(body);
  const list = r.sub(3, 0, 0xffffff, 'certificate_list');
  r.end('Certificate');
  const chain: Uint8Array[] = [];
  while (!list.atEnd) chain.push(list.vec(3, 1, 0xffffff, 'ASN.1Cert'));
  return chain;
}

/** RFC 8422 §5.4: ECCurveType named_curve. */
const NAMED_CURVE = 3;

export interface ServerEcdhParams {
  readonly group: number;
  readonly publicKey: Uint8Array;
}

export interface ServerKeyExchange {
  readonly params: ServerEcdhParams;
  /** The encoded ServerECDHParams, as signed. */
  readonly paramsRaw: Uint8Array;
  readonly scheme: number;
  readonly signature: Uint8Array;
}

/** RFC 8422 §5.4: ServerECDHParams = ECParameters (named_curve, NamedCurve) + ECPoint<1..2^8-1>. */
export function encodeServerEcdhParams(params: ServerEcdhParams): Uint8Array {
  return new Writer().u8(NAMED_CURVE).u16(params.group).vec(1, params.publicKey).finish();
}

/** RFC 8422 §5.4: the signed content is client_random + server_random + ServerECDHParams. */
export function serverKeyExchangeSignedContent(
  clientRandom: Uint8Array,
  serverRandom: Uint8Array,
  paramsRaw: Uint8Array,
): Uint8Array {
  return concatBytes([clientRandom, serverRandom, paramsRaw]);
}

export function encodeServerKeyExchange(
  paramsRaw: Uint8Array,
  scheme: number,
  signature: Uint8Array,
): Uint8Array {
  // RFC 5246 §4.7 digitally-signed: SignatureAndHashAlgorithm, then signature<0..2^16-1>.
  const body = new Writer().raw(paramsRaw).u16(scheme).vec(2, signature).finish();
  return encodeHandshake(HandshakeType12.server_key_exchange, body);
}

export function decodeServerKeyExchange(body: Uint8Array): ServerKeyExchange {
  const r = new Reader(body);
  const curveType = r.u8();
  // RFC 8422 §5.4: explicit curves are deprecated; named curves only.
  if (curveType !== NAMED_CURVE)
    throw misbehaved('curveTypeNotNamed', `ECCurveType ${curveType} is not named_curve`);
  const group = r.u16();
  const publicKey = r.vec(1, 1, 0xff, 'ECPoint');
  const paramsRaw = body.subarray(0, 3 + 1 + publicKey.length);
  const scheme = r.u16();
  const signature = r.vec(2, 1, 0xffff, 'signature');
  r.end('ServerKeyExchange');
  return { params: { group, publicKey }, paramsRaw, scheme, signature };
}

/** RFC 8422 §5.7: ClientECDiffieHellmanPublic = ECPoint<1..2^8-1> (explicit form). */
export function encodeClientKeyExchange(publicKey: Uint8Array): Uint8Array {
  return encodeHandshake(HandshakeType12.client_key_exchange, new Writer().vec(1, publicKey).finish());
}

export function decodeClientKeyExchange(body: Uint8Array): Uint8Array {
  const r = new Reader(body);
  const point = r.vec(1, 1, 0xff, 'ECPoint');
  r.end('ClientKeyExchange');
  return point;
}

/** RFC 5246 §7.4.5 and §7.4.1.1: both messages have empty bodies. */
export function encodeServerHelloDone(): Uint8Array {
  return encodeHandshake(HandshakeType12.server_hello_done, new Uint8Array(0));
}

export function expectEmptyBody(body: Uint8Array, what: string): void {
  if (body.length !== 0) throw decodeError(`${what} must be empty`);
}

/** RFC 5246 §7.4.9: verify_data is 12 bytes for every suite we speak. */
export function decodeFinished12(body: Uint8Array): Uint8Array {
  if (body.length !== 12) throw decodeError(`Finished of ${body.length} bytes, expected 12`);
  return body;
}

/** RFC 5746 §3.2: renegotiation_info carries renegotiated_connection<0..255>; empty at first. */
export function decodeRenegotiationInfo(data: Uint8Array): Uint8Array {
  const r = new Reader(data);
  const v = r.vec(1, 0, 0xff, 'renegotiated_connection');
  r.end('renegotiation_info');
  return v;
}

export const EMPTY_RENEGOTIATION_INFO = Uint8Array.of(0);

/** RFC 8422 §5.1.2: ECPointFormatList; uncompressed (0) must be in it. */
export function decodeEcPointFormats(data: Uint8Array): Uint8Array {
  const r = new Reader(data);
  const v = r.vec(1, 1, 0xff, 'ec_point_format_list');
  r.end('ec_point_formats');
  return v;
}

export const UNCOMPRESSED_ONLY = Uint8Array.of(1, 0);
