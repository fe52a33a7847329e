/**
 * PEM, the textual encoding of RFC 7468: base64 DER between `-----BEGIN label-----` and
 * `-----END label-----` lines. Parsing is lax where §2 allows (text around blocks, any line
 * length and line ending, whitespace inside the base64) and strict where it matters: a block
 * must end with its own label and hold valid base64.
 */
import { CertificateError } from '../errors.js';

export interface PemBlock {
  /** The label, e.g. `CERTIFICATE`, `PRIVATE KEY`, `EC PRIVATE KEY`. */
  readonly label: string;
  readonly der: Uint8Array;
}

/** RFC 7468 §5.3: `X509 CERTIFICATE` and `X.509 CERTIFICATE` are old spellings of the label. */
const CERTIFICATE_LABELS = new Set(['CERTIFICATE', 'X509 CERTIFICATE', 'X.509 CERTIFICATE']);

const BEGIN = /-----BEGIN ([\x21-\x2c\x2e-\x7e](?:[- ]?[\x21-\x2c\x2e-\x7e])*)?-----/g;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Every PEM block in `pem`, in order; with `label`, only the blocks carrying that label. */
export function pemBlocks(pem: string, label?: string): PemBlock[] {
  const blocks: PemBlock[] = [];
  BEGIN.lastIndex = 0;
  for (let m = BEGIN.exec(pem); m !== null; m = BEGIN.exec(pem)) {
    const found = m[1] ?? '';
    const endMarker = `-----END ${found}-----`;
    const bodyStart = m.index + m[0].length;
    const end = pem.indexOf(endMarker, bodyStart);
    if (end === -1) throw new CertificateError(`PEM block "${found}" has no matching END line`);
    const nested = pem.indexOf('-----BEGIN ', bodyStart);
    if (nested !== -1 && nested < end) throw new CertificateError(`PEM block "${found}" is not terminated`);
    const body = pem.slice(bodyStart, end).replace(/\s+/g, '');
    if (!BASE64.test(body) || body.length % 4 !== 0) {
      throw new CertificateError(`PEM block "${found}" is not valid base64`);
    }
    BEGIN.lastIndex = end + endMarker.length;
    if (label !== undefined && found !== label) continue;
    blocks.push({ label: found, der: new Uint8Array(Buffer.from(body, 'base64')) });
  }
  return blocks;
}

/**
 * The DER of each certificate in a PEM chain, in the order given (leaf first, by convention).
 * Other blocks (a private key in the same file) are skipped. A chain with no certificate is
 * an error: no use of a chain can go on without one.
 */
export function parsePemChain(pem: string): Uint8Array[] {
  const chain = pemBlocks(pem)
    .filter((b) => CERTIFICATE_LABELS.has(b.label))
    .map((b) => b.der);
  if (chain.length === 0) throw new CertificateError('no CERTIFICATE block in the PEM text');
  return chain;
}

/** DER to PEM, with the 64-column lines of RFC 7468 §2 and a final newline. */
export function derToPem(label: string, der: Uint8Array): string {
  const b64 = Buffer.from(der.buffer, der.byteOffset, der.byteLength).toString('base64');
  const lines = b64.match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}${lines.length ? '\n' : ''}-----END ${label}-----\n`;
}
