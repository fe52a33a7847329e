/**
 * nameConstraints (RFC 5280 §4.2.1.10) for the names a TLS server certificate carries: dNSName
 * and iPAddress. A CA limited to `example.com` cannot vouch for `bank.test`, whatever it signs.
 * Constraints of other name forms (directoryName, rfc822Name, URI) do not limit DNS or IP
 * names and are not evaluated.
 */
import { children, single } from './der.js';
import type { AltNames } from './der.js';

export interface NameConstraints {
  readonly permittedDns: readonly string[];
  readonly excludedDns: readonly string[];
  /** Address then mask: 8 octets for IPv4, 32 for IPv6. */
  readonly permittedIp: readonly Uint8Array[];
  readonly excludedIp: readonly Uint8Array[];
}

export function parseNameConstraints(value: Uint8Array): NameConstraints {
  const result = {
    permittedDns: [] as string[],
    excludedDns: [] as string[],
    permittedIp: [] as Uint8Array[],
    excludedIp: [] as Uint8Array[],
  };
  for (const subtrees of children(single(value, 0x30).value)) {
    const permitted = subtrees.tag === 0xa0;
    if (!permitted && subtrees.tag !== 0xa1) continue;
    for (const subtree of children(subtrees.value)) {
      const [base] = children(subtree.value);
      if (!base) continue;
      if (base.tag === 0x82) {
        const name = Buffer.from(base.value).toString('latin1').toLowerCase().replace(/^\./, '');
        (permitted ? result.permittedDns : result.excludedDns).push(name);
      } else if (base.tag === 0x87) {
        (permitted ? result.permittedIp : result.excludedIp).push(base.value);
      }
    }
  }
  return result;
}

/** A DNS name is within `base` when it is `base` or ends with `.base` (labels added on the left). */
function dnsWithin(name: string, base: string): boolean {
  const n = name.toLowerCase().replace(/\.$/, '');
  return base === '' || n === base || n.endsWith('.' + base);
}

function ipWithin(ip: Uint8Array, range: Uint8Array): boolean {
  if (range.length !== ip.length * 2) return false;
  for (let i = 0; i < ip.length; i++) {
    const mask = range[ip.length + i];
    if ((ip[i] & mask) !== (range[i] & mask)) return false;
  }
  return true;
}

/** Why `names` break `nc`, or undefined when they satisfy it. */
export function checkNameConstraints(nc: NameConstraints, names: AltNames): string | undefined {
  for (const dns of names.dns) {
    if (nc.excludedDns.some((b) => dnsWithin(dns, b)))
      return `name ${dns} is excluded by a CA's name constraints`;
    if (nc.permittedDns.length && !nc.permittedDns.some((b) => dnsWithin(dns, b))) {
      return `name ${dns} is outside a CA's permitted names`;
    }
  }
  for (const ip of names.ip) {
    if (nc.excludedIp.some((r) => ipWithin(ip, r)))
      return "an IP address is excluded by a CA's name constraints";
    if (nc.permittedIp.length && !nc.permittedIp.some((r) => ipWithin(ip, r))) {
      return "an IP address is outside a CA's permitted ranges";
    }
  }
  return undefined;
}
