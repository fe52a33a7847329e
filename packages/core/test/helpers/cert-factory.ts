/**
 * Certificates with exactly the extensions a test wants — no SAN, no basicConstraints, a
 * foreign critical extension, name constraints — which the production generators never make.
 * ECDSA P-256 throughout (fast); each certificate keeps its key pair so it can issue others.
 */
import { webcrypto } from 'node:crypto';
import { x509 } from '../../src/certs/x509.js';

export interface MadeCert {
  readonly pem: string;
  readonly der: Uint8Array;
  readonly name: string;
  readonly keys: webcrypto.CryptoKeyPair;
}

export interface MakeCertOptions {
  /** Subject DN, e.g. `CN=leaf`. */
  subject: string;
  /** Signed by this certificate's key; absent: self-signed. */
  issuer?: MadeCert;
  /** basicConstraints cA; `undefined` leaves the extension out. */
  ca?: boolean;
  pathLength?: number;
  /** KeyUsageFlags bits; `undefined` leaves the extension out. */
  keyUsage?: number;
  /** extKeyUsage OIDs; `undefined` leaves the extension out. */
  eku?: string[];
  /** SAN entries; `undefined` leaves the extension out. */
  san?: { type: 'dns' | 'ip'; value: string }[];
  extra?: x509.Extension[];
  notBefore?: Date;
  notAfter?: Date;
  /** Reuse a key pair (default: a fresh one). */
  keys?: webcrypto.CryptoKeyPair;
}

const ALG = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export async function makeCert(o: MakeCertOptions): Promise<MadeCert> {
  const keys =
    o.keys ??
    ((await webcrypto.subtle.generateKey(ALG, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair);
  const extensions: x509.Extension[] = [];
  if (o.ca !== undefined) extensions.push(new x509.BasicConstraintsExtension(o.ca, o.pathLength, true));
  if (o.keyUsage !== undefined) extensions.push(new x509.KeyUsagesExtension(o.keyUsage, true));
  if (o.eku !== undefined) extensions.push(new x509.ExtendedKeyUsageExtension(o.eku));
  if (o.san !== undefined) extensions.push(new x509.SubjectAlternativeNameExtension(o.san));
  extensions.push(...(o.extra ?? []));
  const issuer = o.issuer;
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(12)))
      .toString('hex')
      .replace(/^[89a-f]/, '1'),
    subject: o.subject,
    issuer: issuer ? issuer.name : o.subject,
    notBefore: o.notBefore ?? new Date(Date.now() - DAY),
    notAfter: o.notAfter ?? new Date(Date.now() + 30 * DAY),
    publicKey: keys.publicKey,
    signingKey: issuer ? issuer.keys.privateKey : keys.privateKey,
    signingAlgorithm: ALG,
    extensions,
  });
  return { pem: cert.toString('pem') + '\n', der: new Uint8Array(cert.rawData), name: o.subject, keys };
}

export const KU = x509.KeyUsageFlags;

/** A root CA for factory-made chains. */
export function makeRoot(name = 'CN=Factory Root', extra: Partial<MakeCertOptions> = {}): Promise<MadeCert> {
  return makeCert({ subject: name, ca: true, keyUsage: KU.keyCertSign | KU.cRLSign, ...extra });
}

/** A server leaf issued by `issuer` for `names`. */
export function makeLeaf(
  issuer: MadeCert,
  names: string[],
  extra: Partial<MakeCertOptions> = {},
): Promise<MadeCert> {
  return makeCert({
    subject: `CN=${names[0] ?? 'leaf'}`,
    issuer,
    ca: false,
    keyUsage: KU.digitalSignature,
    eku: ['1.3.6.1.5.5.7.3.1'],
    san: names.map((n) => ({ type: /^[\d.]+$|:/.test(n) ? ('ip' as const) : ('dns' as const), value: n })),
    ...extra,
  });
}
