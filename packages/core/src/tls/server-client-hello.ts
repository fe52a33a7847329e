/**
 * What the TLS 1.3 server reads from a ClientHello before deciding anything (RFC 8446 §4.1.2,
 * §4.2): versions, compression, signature algorithms, groups and key shares, server name, the
 * PSK offer and early_data; the rules a second ClientHello must keep after a HelloRetryRequest
 * (§4.1.2, §4.2.10); and the certificate and signature scheme for a full handshake.
 */
import { loadSigningKey, SIGNATURE_SCHEME_CODES, type SigningKey } from '../certs/signing.js';
import { parsePemChain } from '../certs/pem.js';
import type { NamedGroup } from '../crypto/provider.js';
import { misbehaved, notNegotiated } from './failures.js';
import { bytesEqual } from './codec.js';
import { ExtensionType, GROUP_CODES, TLS13 } from './constants.js';
import type { CertificateSource, CertifiedKey } from './engine.js';
import {
  decodeAlpn,
  decodeClientKeyShares,
  decodeCookie,
  decodeServerName,
  decodeU16,
  decodeU16List,
  findExtension,
  type ClientHello,
  type KeyShareEntry,
} from './messages.js';
import { EXT } from './negotiation.js';
import { readPskOffer, type PskOffer } from './server-psk.js';

/**
 * RFC 8449 §4: the client's record_size_limit, checked when the ClientHello is read, before
 * any answer: exactly two bytes (decode_error otherwise), never below 64 (illegal_parameter).
 */
export function readRecordSizeLimit(ch: ClientHello): number | undefined {
  const ext = findExtension(ch.extensions, EXT.record_size_limit);
  if (!ext) return undefined;
  const limit = decodeU16(ext, 'record_size_limit');
  if (limit < 64) throw misbehaved('recordSizeLimitTooSmall', `record_size_limit ${limit} below 64`);
  return limit;
}

export interface ClientHello13 {
  /** Absent only beside a PSK offer (RFC 8446 §9.2); a full handshake then fails. */
  readonly clientSchemes: readonly number[] | undefined;
  readonly clientGroups: readonly number[];
  readonly shares: readonly KeyShareEntry[];
  readonly serverName?: string;
  readonly offer: PskOffer;
  readonly earlyData: boolean;
}

export function readClientHello13(ch: ClientHello): ClientHello13 {
  const versionsExt = findExtension(ch.extensions, ExtensionType.supported_versions);
  // RFC 8446 §4.2.1: without supported_versions this is TLS 1.2 or older, which we do not speak.
  if (!versionsExt) throw misbehaved('clientLacksTls13', 'client does not offer TLS 1.3');
  const versions = decodeU16List(versionsExt, 1, 2, 'supported_versions');
  if (!versions.includes(TLS13)) throw misbehaved('clientLacksTls13', 'client does not offer TLS 1.3');
  if (ch.compressionMethods.length !== 1 || ch.compressionMethods[0] !== 0) {
    throw misbehaved('compressionNotNull', 'TLS 1.3 requires the null compression method only');
  }
  // RFC 8446 §9.2: a ClientHello without pre_shared_key must carry signature_algorithms; one
  // offering a PSK may leave it out, and is refused later only if the PSK is not accepted.
  const sigExt = findExtension(ch.extensions, ExtensionType.signature_algorithms);
  const offer = readPskOffer(ch);
  if (!sigExt && !offer.psks)
    throw misbehaved('missingExtension', 'signature_algorithms is required (RFC 8446 §4.2.3)');
  const clientSchemes = sigExt ? decodeU16List(sigExt, 2, 2, 'signature_algorithms') : undefined;
  const groupsExt = findExtension(ch.extensions, ExtensionType.supported_groups);
  const shareExt = findExtension(ch.extensions, ExtensionType.key_share);
  if (!groupsExt || !shareExt)
    throw misbehaved('missingExtension', 'supported_groups and key_share are required');
  const clientGroups = decodeU16List(groupsExt, 2, 2, 'supported_groups');
  const shares = decodeClientKeyShares(shareExt);
  for (const sh of shares)
    if (!clientGroups.includes(sh.group))
      throw misbehaved('badKeyShare', 'key share for a group not in supported_groups');
  const serverNameExt = findExtension(ch.extensions, ExtensionType.server_name);
  return {
    clientSchemes,
    clientGroups,
    shares,
    serverName: serverNameExt ? decodeServerName(serverNameExt) : undefined,
    offer,
    earlyData: findExtension(ch.extensions, ExtensionType.early_data) !== undefined,
  };
}

/**
 * RFC 8446 §4.1.2: the second ClientHello repeats the first but for key_share, cookie, padding
 * (and pre_shared_key's ages and binders); §4.2.10: no early_data after a HelloRetryRequest.
 */
export function checkSecondHello(
  ch: ClientHello,
  read: ClientHello13,
  first: ClientHello,
  cookie: Uint8Array,
  group: NamedGroup,
): void {
  if (!bytesEqual(ch.random, first.random) || !bytesEqual(ch.sessionId, first.sessionId))
    throw misbehaved('secondHelloChanged', 'second ClientHello changed random or session id');
  if (ch.cipherSuites.join() !== first.cipherSuites.join())
    throw misbehaved('secondHelloChanged', 'second ClientHello changed cipher suites');
  const cookieExt = findExtension(ch.extensions, ExtensionType.cookie);
  if (!cookieExt || !bytesEqual(decodeCookie(cookieExt), cookie))
    throw misbehaved('secondHelloChanged', 'cookie missing or changed');
  if (read.shares.length !== 1 || read.shares[0]!.group !== GROUP_CODES[group])
    throw misbehaved('secondHelloChanged', 'second ClientHello must carry exactly the requested key share');
  if (read.earlyData) throw misbehaved('secondHelloChanged', 'early_data after a HelloRetryRequest');
  const rsl = (c: ClientHello) => findExtension(c.extensions, EXT.record_size_limit);
  const [before, after] = [rsl(first), rsl(ch)];
  if (before === undefined ? after !== undefined : after === undefined || !bytesEqual(before, after))
    throw misbehaved('recordSizeLimitChangedAfterRetry', 'second ClientHello changed record_size_limit');
}

/** Our first group, in our order, for which the client sent a share. */
export function chooseKeyShare(
  ours: readonly NamedGroup[],
  shares: readonly KeyShareEntry[],
): { group: NamedGroup; share: Uint8Array } | undefined {
  for (const group of ours) {
    const s = shares.find((x) => x.group === GROUP_CODES[group]);
    if (s) return { group, share: s.keyExchange };
  }
  return undefined;
}

/** RFC 7301 §3.2: the client's first protocol we speak; none in common is fatal. */
export function chooseAlpn(ch: ClientHello, ours: readonly string[] | undefined): string | undefined {
  const alpnExt = findExtension(ch.extensions, ExtensionType.alpn);
  if (!alpnExt || !ours?.length) return undefined;
  const alpn = decodeAlpn(alpnExt).find((p) => ours.includes(p));
  if (!alpn) throw notNegotiated('noCommonApplicationProtocol', 'no application protocol in common');
  return alpn;
}

const signingKeys = new WeakMap<CertifiedKey, { key: SigningKey; chain: Uint8Array[] }>();
function signerFor(certified: CertifiedKey) {
  let s = signingKeys.get(certified);
  if (!s) {
    s = {
      key: certified.signingKey ?? loadSigningKey(certified.privateKeyPem),
      chain: parsePemChain(certified.certificateChainPem),
    };
    signingKeys.set(certified, s);
  }
  return s;
}

/** Certificate chain, signer and signature scheme for a full handshake (RFC 8446 §4.4.2, §4.4.3). */
export function serverAuthentication(
  certificates: CertificateSource,
  serverName: string | undefined,
  clientSchemes: readonly number[] | undefined,
) {
  // RFC 8446 §4.2.3: certificate authentication needs the client's signature_algorithms.
  if (!clientSchemes)
    throw misbehaved('missingExtension', 'signature_algorithms is required for a full handshake');
  const signer = signerFor(certificates.select(serverName));
  const scheme = signer.key.schemes.find((s) => clientSchemes.includes(SIGNATURE_SCHEME_CODES[s]));
  if (!scheme)
    throw notNegotiated('noCommonSignatureScheme', 'no signature scheme in common for our certificate');
  return { signer, scheme };
}
