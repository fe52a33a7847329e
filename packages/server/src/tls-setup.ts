/**
 * The server's certificate: `--cert/--key` when given (checked to match), else a self-signed
 * certificate for the hostname, generated into the data dir on first start and reused.
 */
import { mkdir, readFile, writeFile, access } from 'node:fs/promises';
import { join } from 'node:path';
import {
  CertificateError,
  ConfigError,
  NativeTlsEngine,
  TsTlsEngine,
  checkCertifiedKey,
  generateSelfSigned,
} from '@postern/core';
import type { CertifiedKey, CryptoChoice, TlsEngine } from '@postern/core';

async function readPem(flag: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`${flag} ${path}: cannot read (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
}

export async function loadCertificateFiles(certPath: string, keyPath: string): Promise<CertifiedKey> {
  const key = {
    certificateChainPem: await readPem('--cert', certPath),
    privateKeyPem: await readPem('--key', keyPath),
  };
  try {
    checkCertifiedKey(key);
  } catch (err) {
    if (err instanceof CertificateError) throw new ConfigError(`--cert/--key: ${err.message}`);
    throw err;
  }
  return key;
}

export async function loadOrCreateSelfSigned(dataDir: string, hostname: string): Promise<CertifiedKey> {
  const dir = join(dataDir, 'tls');
  const certPath = join(dir, `${hostname}.cert.pem`);
  const keyPath = join(dir, `${hostname}.key.pem`);
  const exists = await access(certPath).then(
    () => true,
    () => false,
  );
  if (exists) return loadCertificateFiles(certPath, keyPath);
  const key = await generateSelfSigned({ hostname });
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(keyPath, key.privateKeyPem, { mode: 0o600 });
  // The certificate is public, but nothing here is for others to write (umask may be 000).
  await writeFile(certPath, key.certificateChainPem, { mode: 0o644 });
  return key;
}

/** The engine behind `--tls-engine` (and `--tls-crypto` for ours). */
export function createEngine(name: 'ts' | 'native', crypto: CryptoChoice = 'default'): TlsEngine {
  return name === 'native' ? new NativeTlsEngine() : new TsTlsEngine({ crypto });
}
