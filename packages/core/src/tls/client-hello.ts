/**
 * The extensions of our ClientHello (RFC 8446 §4.1.2, §4.2), in the order we send them: server
 * name, groups, signature algorithms, ALPN, versions and key share, the HelloRetryRequest
 * cookie, psk_key_exchange_modes (§4.2.9) when we keep tickets, the TLS 1.2 extensions, and
 * pre_shared_key last (§4.2.11).
 */
import { isIP } from 'node:net';
import type { KeyShareSecret, NamedGroup } from '../crypto/provider.js';
import { ExtensionType, GROUP_CODES, PskMode, TLS12, TLS13 } from './constants.js';
import {
  encodeAlpn,
  encodeClientKeyShares,
  encodeServerName,
  encodeU16List,
  type Extension,
} from './messages.js';
import {
  CERT_SCHEME_CODES,
  EXT,
  OUR_SCHEMES,
  clientVersions,
  groupCodes,
  schemeCodes,
} from './negotiation.js';
import { encodePskModes } from './psk.js';

export interface HelloParts {
  readonly serverName?: string;
  readonly alpnProtocols?: readonly string[];
  /** supported_groups. */
  readonly groups: readonly NamedGroup[];
  /** Our key share: TLS 1.3 offered. */
  readonly share?: KeyShareSecret;
  readonly cookie?: Uint8Array;
  /** TLS 1.2 offered too: its extensions and extra signature schemes. */
  readonly parts12?: { readonly extensions: readonly Extension[]; readonly schemes: readonly number[] };
  /** We keep tickets: ask for them with psk_dhe_ke. */
  readonly pskModes: boolean;
  readonly preSharedKey?: Extension;
}

export function clientHelloExtensions(p: HelloParts): Extension[] {
  const exts: Extension[] = [];
  // RFC 6066 §3: no IP literals in server_name.
  if (p.serverName && !isIP(p.serverName))
    exts.push({ type: ExtensionType.server_name, data: encodeServerName(p.serverName) });
  exts.push({ type: ExtensionType.supported_groups, data: encodeU16List(groupCodes(p.groups), 2) });
  // TLS 1.2 peers may need PKCS#1 RSA (RFC 5246 §7.4.1.4.1); a TLS 1.3 CertificateVerify still may not use it.
  const schemes = schemeCodes(OUR_SCHEMES);
  for (const c of p.parts12?.schemes ?? []) if (!schemes.includes(c)) schemes.push(c);
  exts.push({ type: ExtensionType.signature_algorithms, data: encodeU16List(schemes, 2) });
  exts.push({ type: EXT.signature_algorithms_cert, data: encodeU16List(CERT_SCHEME_CODES, 2) });
  if (p.alpnProtocols?.length) exts.push({ type: ExtensionType.alpn, data: encodeAlpn(p.alpnProtocols) });
  if (p.share) {
    exts.push({
      type: ExtensionType.supported_versions,
      data: clientVersions(p.parts12 ? [TLS13, TLS12] : [TLS13]),
    });
    exts.push({
      type: ExtensionType.key_share,
      data: encodeClientKeyShares([{ group: GROUP_CODES[p.share.group], keyExchange: p.share.publicKey }]),
    });
  }
  if (p.cookie)
    exts.push({
      type: ExtensionType.cookie,
      data: Uint8Array.from([p.cookie.length >> 8, p.cookie.length & 0xff, ...p.cookie]),
    });
  if (p.share && p.pskModes)
    exts.push({ type: ExtensionType.psk_key_exchange_modes, data: encodePskModes([PskMode.psk_dhe_ke]) });
  if (p.parts12) exts.push(...p.parts12.extensions);
  if (p.preSharedKey) exts.push(p.preSharedKey);
  return exts;
}
