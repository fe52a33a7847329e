/**
 * SNI-driven certificate selection: exact name, then a wildcard one label deep
 * (RFC 6125 §6.4.3), else the default (the first added).
 */
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { CertificateError } from '../errors.js';
import type { CertificateSource, CertifiedKey } from '../tls/engine.js';

/** DNS names a certificate is valid for: its DNS SANs, or its CN when it has none. */
export function certificateNames(pem: string): string[] {
  const cert = new X509Certificate(pem);
  const san = cert.subjectAltName;
  if (san) {
    return san
      .split(/,\s*/)
      .filter((e) => e.startsWith('DNS:'))
      .map((e) => e.slice(4).toLowerCase());
  }
  const cn = /(?:^|\n)CN=([^\n]+)/.exec(cert.subject);
  return cn ? [cn[1].toLowerCase()] : [];
}

/** Throws CertificateError unless `key` parses and matches the leaf's public key. */
export function checkCertifiedKey(key: CertifiedKey): void {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(key.certificateChainPem);
  } catch (err) {
    throw new CertificateError(`certificate is not valid PEM: ${(err as Error).message}`, { cause: err });
  }
  let privateKey;
  try {
    privateKey = createPrivateKey(key.privateKeyPem);
  } catch (err) {
    throw new CertificateError(`private key is not valid PEM: ${(err as Error).message}`, { cause: err });
  }
  if (!cert.checkPrivateKey(privateKey)) {
    throw new CertificateError('private key does not match the certificate');
  }
}

export class CertificateStore implements CertificateSource {
  private readonly exact = new Map<string, CertifiedKey>();
  private readonly wildcard = new Map<string, CertifiedKey>();
  private defaultKey: CertifiedKey | undefined;

  constructor(keys: readonly CertifiedKey[] = []) {
    for (const k of keys) this.add(k);
  }

  add(key: CertifiedKey): this {
    checkCertifiedKey(key);
    this.defaultKey ??= key;
    for (const name of certificateNames(key.certificateChainPem)) {
      if (name.startsWith('*.')) this.wildcard.set(name.slice(2), key);
      else this.exact.set(name, key);
    }
    return this;
  }

  select(serverName: string | undefined): CertifiedKey {
    if (!this.defaultKey) throw new CertificateError('no certificate configured');
    if (!serverName) return this.defaultKey;
    const name = serverName.toLowerCase().replace(/\.$/, '');
    const hit = this.exact.get(name);
    if (hit) return hit;
    const dot = name.indexOf('.');
    if (dot > 0) {
      const wild = this.wildcard.get(name.slice(dot + 1));
      if (wild) return wild;
    }
    return this.defaultKey;
  }
}
