/**
 * Just enough DER (X.690 §10) to read the parts of an X.509 certificate (RFC 5280 §4.1) that
 * path validation needs and node:crypto does not expose: validity, extensions with their
 * criticality, basicConstraints, keyUsage, extKeyUsage, subjectAltName and the subject CN.
 * Every length is checked against its container; anything malformed throws CertificateError.
 */
import { CertificateError } from '../errors.js';

export interface Tlv {
  readonly tag: number;
  /** The contents octets. */
  readonly value: Uint8Array;
}

function fail(what: string): never {
  throw new CertificateError(`malformed certificate: ${what}`);
}

/** Read one TLV at `pos`; returns it and the offset after it. Single-octet tags only. */
export function readTlv(buf: Uint8Array, pos: number): { tlv: Tlv; next: number } {
  if (pos + 2 > buf.length) fail('truncated element');
  const tag = buf[pos];
  if ((tag & 0x1f) === 0x1f) fail('multi-octet tag');
  let len = buf[pos + 1];
  let off = pos + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 4) fail('unsupported length');
    if (off + n > buf.length) fail('truncated length');
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + buf[off + i];
    off += n;
    if (len < 0x80 || (n > 1 && buf[off - n] === 0)) fail('non-minimal length');
  }
  if (off + len > buf.length) fail('element longer than its container');
  return { tlv: { tag, value: buf.subarray(off, off + len) }, next: off + len };
}

/** The elements inside a constructed value. */
export function children(value: Uint8Array): Tlv[] {
  const out: Tlv[] = [];
  for (let pos = 0; pos < value.length;) {
    const { tlv, next } = readTlv(value, pos);
    out.push(tlv);
    pos = next;
  }
  return out;
}

/** Exactly one element filling `buf`. */
export function single(buf: Uint8Array, expectedTag?: number): Tlv {
  const { tlv, next } = readTlv(buf, 0);
  if (next !== buf.length) fail('trailing data');
  if (expectedTag !== undefined && tlv.tag !== expectedTag)
    fail(`expected tag 0x${expectedTag.toString(16)}`);
  return tlv;
}

export function decodeOid(value: Uint8Array): string {
  if (value.length === 0) fail('empty OID');
  const parts: number[] = [];
  let acc = 0;
  for (let i = 0; i < value.length; i++) {
    acc = acc * 128 + (value[i] & 0x7f);
    if (!(value[i] & 0x80)) {
      parts.push(acc);
      acc = 0;
    } else if (i === value.length - 1) fail('truncated OID');
  }
  const first = parts[0];
  const head = first < 40 ? [0, first] : first < 80 ? [1, first - 40] : [2, first - 80];
  return [...head, ...parts.slice(1)].join('.');
}

/** RFC 5280 §4.1.2.5: UTCTime (YYMMDDHHMMSSZ, 50..99 = 19xx) or GeneralizedTime. */
function decodeTime(t: Tlv): Date {
  const s = Buffer.from(t.value).toString('latin1');
  const m =
    t.tag === 0x17
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
      : t.tag === 0x18
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(s)
        : null;
  if (!m) fail('bad time');
  let year = Number(m[1]);
  if (t.tag === 0x17) year += year < 50 ? 2000 : 1900;
  const d = new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6])),
  );
  if (Number.isNaN(d.getTime())) fail('bad time');
  return d;
}

export interface CertExtension {
  readonly oid: string;
  readonly critical: boolean;
  /** The extnValue contents: the DER of the extension's own structure. */
  readonly value: Uint8Array;
}

export interface CertificateFields {
  readonly notBefore: Date;
  readonly notAfter: Date;
  readonly extensions: readonly CertExtension[];
  /** Subject commonName values (OID 2.5.4.3), as text. */
  readonly subjectCommonNames: readonly string[];
}

export const OID = {
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  anyExtendedKeyUsage: '2.5.29.37.0',
} as const;

function commonNames(name: Tlv): string[] {
  const out: string[] = [];
  for (const rdn of children(name.value)) {
    for (const atv of children(rdn.value)) {
      const [type, value] = children(atv.value);
      if (type && value && type.tag === 0x06 && decodeOid(type.value) === OID.commonName) {
        if (value.tag === 0x1e && value.value.length % 2 !== 0) fail('bad BMPString');
        // BMPString (0x1e) is UTF-16BE; the others in practice are ASCII or UTF-8.
        out.push(
          value.tag === 0x1e
            ? Buffer.from(value.value).swap16().toString('utf16le')
            : Buffer.from(value.value).toString('utf8'),
        );
      }
    }
  }
  return out;
}

/** Read validity, extensions and subject CNs from a DER certificate. */
export function certificateFields(der: Uint8Array): CertificateFields {
  const cert = single(der, 0x30);
  const [tbs] = children(cert.value);
  if (!tbs || tbs.tag !== 0x30) fail('no TBSCertificate');
  const fields = children(tbs.value);
  let i = fields[0]?.tag === 0xa0 ? 1 : 0; // version [0] EXPLICIT, absent for v1
  i += 3; // serialNumber, signature, issuer
  const validity = fields[i++];
  const subject = fields[i++];
  i++; // subjectPublicKeyInfo
  if (!validity || validity.tag !== 0x30 || !subject || subject.tag !== 0x30) fail('bad TBSCertificate');
  const [nb, na] = children(validity.value);
  if (!nb || !na) fail('bad validity');
  const extensions: CertExtension[] = [];
  for (const f of fields.slice(i)) {
    if (f.tag !== 0xa3) continue; // issuerUniqueID [1], subjectUniqueID [2]
    for (const ext of children(single(f.value, 0x30).value)) {
      const parts = children(ext.value);
      const oid = parts[0];
      const last = parts[parts.length - 1];
      if (!oid || oid.tag !== 0x06 || !last || last.tag !== 0x04 || parts.length > 3) fail('bad extension');
      const critical = parts.length === 3 && parts[1].tag === 0x01 && parts[1].value[0] !== 0;
      extensions.push({ oid: decodeOid(oid.value), critical, value: last.value });
    }
  }
  const seen = new Set<string>();
  for (const e of extensions) {
    if (seen.has(e.oid)) fail(`extension ${e.oid} appears twice`); // RFC 5280 §4.2
    seen.add(e.oid);
  }
  return {
    notBefore: decodeTime(nb),
    notAfter: decodeTime(na),
    extensions,
    subjectCommonNames: commonNames(subject),
  };
}

export interface BasicConstraints {
  readonly ca: boolean;
  readonly pathLength?: number;
}

/** RFC 5280 §4.2.1.9. */
export function parseBasicConstraints(value: Uint8Array): BasicConstraints {
  const parts = children(single(value, 0x30).value);
  let ca = false;
  let pathLength: number | undefined;
  for (const p of parts) {
    if (p.tag === 0x01) ca = p.value[0] !== 0;
    else if (p.tag === 0x02) {
      if (p.value.length > 4 || p.value[0] & 0x80) fail('bad pathLenConstraint');
      pathLength = p.value.reduce((acc, b) => acc * 256 + b, 0);
    }
  }
  return { ca, pathLength };
}

/** RFC 5280 §4.2.1.3: whether bit `bit` (0 = digitalSignature, 5 = keyCertSign) is set. */
export function keyUsageHas(value: Uint8Array, bit: number): boolean {
  const bits = single(value, 0x03).value;
  const byte = 1 + (bit >> 3);
  return byte < bits.length && (bits[byte] & (0x80 >> (bit & 7))) !== 0;
}

/** RFC 5280 §4.2.1.12: the purposes listed. */
export function parseExtKeyUsage(value: Uint8Array): string[] {
  return children(single(value, 0x30).value).map((p) => {
    if (p.tag !== 0x06) fail('bad extKeyUsage');
    return decodeOid(p.value);
  });
}

export interface AltNames {
  readonly dns: readonly string[];
  /** iPAddress entries: 4 or 16 octets. */
  readonly ip: readonly Uint8Array[];
}

/** RFC 5280 §4.2.1.6: the dNSName [2] and iPAddress [7] entries; other forms are skipped. */
export function parseSubjectAltName(value: Uint8Array): AltNames {
  const dns: string[] = [];
  const ip: Uint8Array[] = [];
  for (const name of children(single(value, 0x30).value)) {
    if (name.tag === 0x82) dns.push(Buffer.from(name.value).toString('latin1'));
    else if (name.tag === 0x87) ip.push(name.value);
  }
  return { dns, ip };
}
