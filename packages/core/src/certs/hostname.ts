/**
 * Does a certificate name a host? RFC 6125 §6 (as updated by RFC 9525): DNS names against the
 * dNSName SANs, a wildcard only as the complete left-most label and matching exactly one label,
 * no partial wildcards (`f*.example.com`), case-insensitive; IP addresses only against iPAddress
 * SANs (RFC 5280 §4.2.1.6), never against a DNS name or the CN; the subject CN is consulted
 * only when the certificate has no subjectAltName at all.
 */
import { isIPv4, isIPv6 } from 'node:net';
import { domainToASCII } from 'node:url';
import { OID, certificateFields, parseSubjectAltName } from './der.js';

/** The octets of an IPv4 or IPv6 address (brackets allowed around IPv6), or undefined. */
export function ipAddressBytes(text: string): Uint8Array | undefined {
  const s = text.startsWith('[') && text.endsWith(']') ? text.slice(1, -1) : text;
  if (isIPv4(s)) return new Uint8Array(s.split('.').map(Number));
  if (!isIPv6(s) || s.includes('%')) return undefined;
  let groups: number[] = [];
  let tail = s;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  const extra: number[] = [];
  if (v4) {
    const [a, b, c, d] = v4[1].split('.').map(Number);
    extra.push((a << 8) | b, (c << 8) | d);
    tail = s.slice(0, -v4[1].length);
    if (tail.endsWith(':') && !tail.endsWith('::')) tail = tail.slice(0, -1);
  }
  const [head, rest] = tail.split('::') as [string, string | undefined];
  const parse = (part: string) => (part ? part.split(':').map((h) => parseInt(h, 16)) : []);
  const left = parse(head);
  const right = [...(rest === undefined ? [] : parse(rest)), ...extra];
  if (rest === undefined) groups = [...left, ...extra];
  else groups = [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  if (groups.length !== 8) return undefined;
  const out = new Uint8Array(16);
  groups.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}

/** Lower-case A-label form without the trailing dot, or undefined when not a usable name. */
function normalizeName(name: string): string | undefined {
  let n = name.endsWith('.') ? name.slice(0, -1) : name;
  if (/[^\x00-\x7f]/.test(n)) n = domainToASCII(n);
  n = n.toLowerCase();
  if (!n || n.split('.').some((label) => label.length === 0 || label.length > 63)) return undefined;
  return /^[a-z0-9_.-]+$/.test(n) ? n : undefined;
}

/** RFC 6125 §6.4.3 with the RFC 9525 §6.3 restrictions. */
function matchesDnsId(presented: string, host: string): boolean {
  const lowered = presented.toLowerCase();
  const pattern = lowered.endsWith('.') ? lowered.slice(0, -1) : lowered;
  if (!pattern.includes('*')) return normalizeName(pattern) === host;
  // Only "*.rest", with no other asterisk, and at least two labels under the wildcard.
  if (!pattern.startsWith('*.') || pattern.indexOf('*', 1) !== -1) return false;
  const base = normalizeName(pattern.slice(2));
  if (!base || !base.includes('.')) return false;
  const dot = host.indexOf('.');
  return dot > 0 && host.slice(dot + 1) === base;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

export function matchesHostname(certDer: Uint8Array, name: string): boolean {
  let fields;
  try {
    fields = certificateFields(certDer);
  } catch {
    return false;
  }
  const sanExt = fields.extensions.find((e) => e.oid === OID.subjectAltName);
  let alt;
  try {
    alt = sanExt ? parseSubjectAltName(sanExt.value) : undefined;
  } catch {
    return false;
  }
  const ip = ipAddressBytes(name);
  if (ip) return alt !== undefined && alt.ip.some((entry) => equalBytes(entry, ip));
  const host = normalizeName(name);
  if (!host || host.includes('*')) return false;
  const presented = alt ? alt.dns : fields.subjectCommonNames;
  return presented.some((id) => matchesDnsId(id, host));
}
