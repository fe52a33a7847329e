/**
 * Protocol version negotiation between TLS 1.3 and TLS 1.2 (RFC 8446 §4.1.3, §4.2.1, §D.1),
 * fallback detection (RFC 7507 §3) and the version-intolerance rules: a ClientHello without
 * supported_versions whose client_version is 0x0304 or higher gets TLS 1.2, never an error.
 */
import { misbehaved } from './failures.js';
import { ExtensionType, TLS12, TLS13 } from './constants.js';
import type { TlsVersion } from './engine.js';
import { decodeU16List, findExtension, type ClientHello } from './messages.js';
import { TLS_FALLBACK_SCSV } from './tls12-suites.js';

export interface VersionRange {
  readonly min: number;
  readonly max: number;
}

const CODES: Record<TlsVersion, number> = { 'TLSv1.2': TLS12, 'TLSv1.3': TLS13 };

export function versionName(code: number): TlsVersion {
  return code === TLS12 ? 'TLSv1.2' : 'TLSv1.3';
}

/**
 * The range from the options. The sans-I/O handshakes default to TLS 1.3 only (their tests and
 * the RFC 8448 traces are byte-exact); the engines pass TLSv1.2–TLSv1.3 by default.
 */
export function versionRange(min: TlsVersion | undefined, max: TlsVersion | undefined): VersionRange {
  const range = { min: CODES[min ?? 'TLSv1.3'], max: CODES[max ?? 'TLSv1.3'] };
  if (range.min === undefined || range.max === undefined)
    throw new RangeError(`unsupported TLS version ${min ?? max}`);
  if (range.min > range.max)
    throw new RangeError(`minVersion ${min} is above maxVersion ${max ?? 'TLSv1.3'}`);
  return range;
}

/** The versions a ClientHello offers, and the highest of them (for RFC 7507). */
function offeredVersions(ch: ClientHello): { versions: number[]; highest: number } {
  const ext = findExtension(ch.extensions, ExtensionType.supported_versions);
  if (ext) {
    // RFC 8446 §4.2.1: with the extension present, legacy_version is ignored.
    const versions = decodeU16List(ext, 1, 2, 'supported_versions');
    const known = versions.filter((v) => v >> 8 === 3);
    return { versions, highest: known.length ? Math.max(...known) : 0 };
  }
  // RFC 5246 §E.1: client_version is the highest the client supports; everything below it too.
  // Without supported_versions nothing above TLS 1.2 can be negotiated (RFC 8446 §4.2.1), so a
  // client_version of 0x0304 or more offers TLS 1.2 at most, also for RFC 7507.
  const v = ch.legacyVersion;
  const versions = v >= TLS12 ? [TLS12] : [];
  return { versions, highest: Math.min(v, TLS12) };
}

/** The version the server negotiates, or the alert that ends the handshake. */
export function chooseServerVersion(ch: ClientHello, range: VersionRange): number {
  // RFC 8446 Appendix D.5: a legacy_version of 0x0300 (SSL 3.0) or below is refused even beside
  // supported_versions; values above it are ignored there (§4.2.1), as real TLS 1.0/1.1-era
  // record layers send 0x0301.
  if (ch.legacyVersion <= SSL3)
    throw misbehaved('legacyVersionTooLow', `ClientHello legacy_version 0x${hex4(ch.legacyVersion)}`);
  const { versions, highest } = offeredVersions(ch);
  const chosen = [TLS13, TLS12].find((v) => v >= range.min && v <= range.max && versions.includes(v));
  // RFC 8446 §4.2.1 / RFC 5246 §E.1: SSL 3.0, TLS 1.0 and 1.1 end here, with or without
  // TLS_FALLBACK_SCSV: below our minimum there is no version to fall back to (OpenSSL agrees).
  if (chosen === undefined)
    throw misbehaved(
      'noCommonVersion',
      `no protocol version in common (client offers up to 0x${hex4(highest)})`,
    );
  // RFC 7507 §3: a fallback retry below what we support means someone interfered.
  if (ch.cipherSuites.includes(TLS_FALLBACK_SCSV) && highest < range.max)
    throw misbehaved(
      'inappropriateFallback',
      `client fell back to 0x${hex4(highest)} though we support 0x${hex4(range.max)}`,
    );
  return chosen;
}

const SSL3 = 0x0300;
const hex4 = (v: number) => v.toString(16).padStart(4, '0');
