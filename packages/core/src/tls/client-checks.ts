/**
 * What the TLS 1.3 client checks in the server's messages, apart from the state machine: the
 * ServerHello's form (RFC 8446 §4.1.3) and key share (§4.2.8), EncryptedExtensions (§4.3.1),
 * the Certificate (§4.4.2), the CertificateVerify signature (§4.4.3), and the chain and name
 * (RFC 5280, RFC 6125) with the alert a rejection gets.
 */
import { KeyExchangeError, keyShareLength, type KeyShareSecret } from '../crypto/provider.js';
import { schemeFromCode, verifySignature, type SignatureScheme } from '../certs/signing.js';
import { verifyServerChainSync } from '../certs/verify.js';
import { certificateRejected, invalidMessage, misbehaved } from './failures.js';
import { bytesEqual } from './codec.js';
import { ExtensionType, GROUP_CODES, TLS13, suiteByCode, type CipherSuite } from './constants.js';
import { certificateVerifyContent } from './handshake-common.js';
import {
  decodeAlpn,
  decodeCertificate,
  decodeCertificateVerify,
  decodeServerKeyShare,
  decodeU16,
  findExtension,
  type Extension,
  type ServerHello,
} from './messages.js';
import { OUR_SCHEMES } from './negotiation.js';

/** RFC 8446 §4.1.3: a TLS 1.3 ServerHello or HelloRetryRequest; returns the suite it chose. */
export function checkServerHello13(
  sh: ServerHello,
  sessionId: Uint8Array,
  offered13: boolean,
  suites: readonly CipherSuite[],
): CipherSuite {
  if (!bytesEqual(sh.sessionId, sessionId)) throw misbehaved('sessionIdNotEchoed', 'session id not echoed');
  if (sh.compressionMethod !== 0) throw misbehaved('compressionNotNull', 'compression method must be null');
  const versions = findExtension(sh.extensions, ExtensionType.supported_versions);
  // RFC 8446 §4.1.3: without supported_versions the server chose TLS 1.2 or older.
  if (!versions) throw misbehaved('serverLacksTls13', 'server does not speak TLS 1.3');
  if (decodeU16(versions, 'supported_versions') !== TLS13 || !offered13)
    throw misbehaved('selectedNotOffered', 'server selected a version we did not offer');
  const suite = suiteByCode(sh.cipherSuite);
  if (!suite || !suites.some((s) => s.code === suite.code))
    throw misbehaved('selectedNotOffered', 'server selected a cipher suite we did not offer');
  const allowed: number[] = [
    ExtensionType.supported_versions,
    ExtensionType.key_share,
    ExtensionType.cookie,
    ExtensionType.pre_shared_key,
  ];
  for (const e of sh.extensions) {
    if (!allowed.includes(e.type))
      throw misbehaved('unsolicitedExtension', `unexpected extension ${e.type} in ServerHello`);
  }
  return suite;
}

/** RFC 8446 §4.2.8: the server's share, for our group, of the right size; returns the shared secret. */
export function completeKeyShare(sh: ServerHello, ours: KeyShareSecret): Uint8Array {
  const shareExt = findExtension(sh.extensions, ExtensionType.key_share);
  if (!shareExt) throw misbehaved('missingExtension', 'ServerHello without key_share');
  const entry = decodeServerKeyShare(shareExt);
  if (entry.group !== GROUP_CODES[ours.group])
    throw misbehaved('badKeyShare', 'server key share is for another group');
  if (entry.keyExchange.length !== keyShareLength(ours.group, 'server'))
    throw misbehaved('badKeyShare', 'malformed server key share');
  try {
    return ours.complete(entry.keyExchange);
  } catch (err) {
    if (err instanceof KeyExchangeError) throw misbehaved('badKeyShare', err.message);
    throw err;
  }
}

/**
 * RFC 8446 §4.3.1: the ALPN protocol chosen (one we offered, RFC 7301 §3.1); and no answer to an
 * extension we did not send (§4.2): early_data only ever goes out through a test's hook.
 */
export function readEncryptedExtensions(
  exts: readonly Extension[],
  alpnProtocols: readonly string[] | undefined,
  sentTypes: ReadonlySet<number>,
): string | undefined {
  if (findExtension(exts, ExtensionType.early_data) && !sentTypes.has(ExtensionType.early_data))
    throw misbehaved('unsolicitedExtension', 'early_data accepted but never offered');
  const alpnExt = findExtension(exts, ExtensionType.alpn);
  if (!alpnExt) return undefined;
  const list = decodeAlpn(alpnExt);
  if (list.length !== 1 || !alpnProtocols?.includes(list[0]!))
    throw misbehaved('selectedNotOffered', 'server chose an ALPN protocol we did not offer');
  return list[0];
}

/** RFC 8446 §4.4.2: the server's chain, leaf first. */
export function readServerCertificate(body: Uint8Array): Uint8Array[] {
  const cert = decodeCertificate(body);
  if (cert.context.length !== 0)
    throw misbehaved('certificateRequestContextNotEmpty', 'certificate_request_context must be empty');
  if (cert.entries.length === 0) throw invalidMessage('server sent an empty certificate list');
  return cert.entries.map((e) => e.data);
}

/** RFC 8446 §4.4.3: the leaf's signature over the transcript so far; returns its scheme. */
export function checkCertificateVerify(
  body: Uint8Array,
  leaf: Uint8Array,
  transcriptHash: Uint8Array,
  minRsaBits: number | undefined,
): SignatureScheme {
  const cv = decodeCertificateVerify(body);
  const scheme = schemeFromCode(cv.scheme);
  if (!scheme || !OUR_SCHEMES.includes(scheme))
    throw misbehaved('selectedNotOffered', `signature scheme 0x${cv.scheme.toString(16)} was not offered`);
  const content = certificateVerifyContent('server', transcriptHash);
  let ok: boolean;
  try {
    ok = verifySignature(leaf, scheme, content, cv.signature, { minRsaBits });
  } catch (err) {
    throw misbehaved(
      'unreadableCertificate',
      `cannot read the server certificate: ${(err as Error).message}`,
    );
  }
  if (!ok) throw misbehaved('signatureMismatch', 'CertificateVerify signature does not verify');
  return scheme;
}

export interface ChainCheck {
  readonly ca?: string | readonly string[];
  readonly serverName?: string;
  readonly now?: Date;
  readonly rejectUnauthorized: boolean;
}

/** Path validation and the RFC 6125 name check; with rejectUnauthorized a failure is fatal. */
export function checkServerChain(
  chain: readonly Uint8Array[],
  c: ChainCheck,
): { ok: boolean; reason?: string } {
  const verdict = verifyServerChainSync([...chain], { ca: c.ca, serverName: c.serverName, now: c.now });
  if (!verdict.ok && c.rejectUnauthorized) {
    const reason = verdict.reason ?? 'certificate rejected';
    throw certificateRejected(reason);
  }
  return verdict;
}
