/**
 * Self-signed certificates for first start and for tests, made with @peculiar/x509 over
 * WebCrypto: ECDSA P-256, valid one year, the hostname (and any extra names) as SANs.
 */
import { webcrypto } from 'node:crypto';
import { x509 } from './x509.js';
import type { CertifiedKey } from '../tls/engine.js';

export interface SelfSignedOptions {
  /** The subject CN and first SAN. */
  hostname: string;
  /** Further DNS names or IP addresses. */
  altNames?: readonly string[];
  validDays?: number;
  /** Fixed clock for reproducible tests. */
  notBefore?: Date;
}

const IP_PATTERN = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+:[0-9a-f:]*)$/i;

function toPem(label: string, der: ArrayBuffer): string {
  const b64 = Buffer.from(der).toString('base64').replace(/(.{64})/g, '$1\n');
  return `-----BEGIN ${label}-----\n${b64.trimEnd()}\n-----END ${label}-----\n`;
}

export async function generateSelfSigned(options: SelfSignedOptions): Promise<CertifiedKey> {
  const alg = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
  const keys = (await webcrypto.subtle.generateKey(alg, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  const notAfter = new Date(notBefore.getTime() + (options.validDays ?? 365) * 86_400_000);
  const names = [options.hostname, ...(options.altNames ?? [])];
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(webcrypto.getRandomValues(new Uint8Array(16))).toString('hex').replace(/^[89a-f]/, '1'),
    name: `CN=${options.hostname.replace(/[,+="<>#;\\]/g, '')}`,
    notBefore,
    notAfter,
    keys,
    signingAlgorithm: alg,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
      new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
      new x509.SubjectAlternativeNameExtension(
        names.map((n) => (IP_PATTERN.test(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n })),
      ),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = await webcrypto.subtle.exportKey('pkcs8', keys.privateKey);
  return { certificateChainPem: cert.toString('pem') + '\n', privateKeyPem: toPem('PRIVATE KEY', pkcs8) };
}
