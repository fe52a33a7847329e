/**
 * Self-signed certificates for first start and for tests, and a small test CA for chain tests,
 * made with @peculiar/x509 over WebCrypto: ECDSA P-256 by default, or P-384, Ed25519 or RSA
 * 2048; valid one year; the hostname (and any extra names) as SANs (RFC 6125 §6.4).
 */
import { webcrypto } from 'node:crypto';
import { x509 } from './x509.js';
import { derToPem } from './pem.js';
import type { CertifiedKey } from '../tls/engine.js';

export type KeyType = 'ecdsa-p256' | 'ecdsa-p384' | 'ed25519' | 'rsa-2048';

export interface SelfSignedOptions {
  /** The subject CN and first SAN. */
  hostname: string;
  /** Further DNS names or IP addresses. */
  altNames?: readonly string[];
  validDays?: number;
  /** Fixed clock for reproducible tests. */
  notBefore?: Date;
  /** Default `ecdsa-p256`. */
  keyType?: KeyType;
}

/** A certificate authority for tests: issues leaves and intermediates with `issueCertificate`. */
export interface TestCa {
  /** This CA's own certificate, PEM: the trust anchor to hand to clients (for a root). */
  readonly certificatePem: string;
  readonly privateKeyPem: string;
  /** Certificates a server sends after a leaf this CA issued: empty for a root, else itself and its issuers below the root. */
  readonly chainPem: string;
  readonly keyType: KeyType;
  /** The subject DN, e.g. `CN=Postern Test CA 1a2b`. */
  readonly name: string;
  /** @internal The key pair, for signing what the CA issues. */
  readonly keys: webcrypto.CryptoKeyPair;
}

export interface TestCaOptions {
  /** Subject CN (default `Postern Test CA <random>`). */
  commonName?: string;
  keyType?: KeyType;
  validDays?: number;
  notBefore?: Date;
  /** RFC 5280 §4.2.1.9 pathLenConstraint. */
  pathLength?: number;
}

export interface IssueOptions {
  /** The subject CN and first SAN (for a leaf). */
  hostname: string;
  altNames?: readonly string[];
  keyType?: KeyType;
  validDays?: number;
  notBefore?: Date;
}

const IP_PATTERN = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+:[0-9a-f:]*)$/i;

type KeyAlgorithm = webcrypto.EcKeyGenParams | webcrypto.RsaHashedKeyGenParams | { name: 'Ed25519' };

/** The WebCrypto algorithm for each key type, used both to generate and to sign. */
function algorithmFor(keyType: KeyType): KeyAlgorithm & { hash?: string } {
  switch (keyType) {
    case 'ecdsa-p256':
      return { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as webcrypto.EcKeyGenParams & {
        hash: string;
      };
    case 'ecdsa-p384':
      return { name: 'ECDSA', namedCurve: 'P-384', hash: 'SHA-384' } as webcrypto.EcKeyGenParams & {
        hash: string;
      };
    case 'ed25519':
      return { name: 'Ed25519' };
    case 'rsa-2048':
      return {
        name: 'RSASSA-PKCS1-v1_5',
        modulusLength: 2048,
        publicExponent: new Uint8Array([1, 0, 1]),
        hash: 'SHA-256',
      };
  }
}

async function generateKeys(keyType: KeyType): Promise<webcrypto.CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(algorithmFor(keyType) as webcrypto.EcKeyGenParams, true, [
    'sign',
    'verify',
  ])) as webcrypto.CryptoKeyPair;
}

/** A positive 128-bit serial (RFC 5280 §4.1.2.2: at most 20 octets, positive). */
function serialNumber(): string {
  return Buffer.from(webcrypto.getRandomValues(new Uint8Array(16)))
    .toString('hex')
    .replace(/^[89a-f]/, '1');
}

function validity(options: { validDays?: number; notBefore?: Date }): { notBefore: Date; notAfter: Date } {
  const notBefore = options.notBefore ?? new Date(Date.now() - 60_000);
  return { notBefore, notAfter: new Date(notBefore.getTime() + (options.validDays ?? 365) * 86_400_000) };
}

function cnOf(text: string): string {
  return `CN=${text.replace(/[,+="<>#;\\]/g, '')}`;
}

function leafExtensions(names: readonly string[]): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(false, undefined, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth, x509.ExtendedKeyUsage.clientAuth]),
    new x509.SubjectAlternativeNameExtension(
      names.map((n) =>
        IP_PATTERN.test(n) ? { type: 'ip' as const, value: n } : { type: 'dns' as const, value: n },
      ),
    ),
  ];
}

async function privateKeyPem(keys: webcrypto.CryptoKeyPair): Promise<string> {
  return derToPem('PRIVATE KEY', new Uint8Array(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey)));
}

export async function generateSelfSigned(options: SelfSignedOptions): Promise<CertifiedKey> {
  const keyType = options.keyType ?? 'ecdsa-p256';
  const keys = await generateKeys(keyType);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: cnOf(options.hostname),
    ...validity(options),
    keys,
    signingAlgorithm: algorithmFor(keyType),
    extensions: [
      ...leafExtensions([options.hostname, ...(options.altNames ?? [])]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return { certificateChainPem: cert.toString('pem') + '\n', privateKeyPem: await privateKeyPem(keys) };
}

function caExtensions(pathLength: number | undefined): x509.Extension[] {
  return [
    new x509.BasicConstraintsExtension(true, pathLength, true),
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
  ];
}

/** A self-signed root CA for tests. */
export async function generateTestCa(options: TestCaOptions = {}): Promise<TestCa> {
  const keyType = options.keyType ?? 'ecdsa-p256';
  const keys = await generateKeys(keyType);
  const name = cnOf(options.commonName ?? `Postern Test CA ${serialNumber().slice(0, 8)}`);
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name,
    ...validity({ validDays: options.validDays ?? 3650, notBefore: options.notBefore }),
    keys,
    signingAlgorithm: algorithmFor(keyType),
    extensions: [
      ...caExtensions(options.pathLength),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  return {
    certificatePem: cert.toString('pem') + '\n',
    privateKeyPem: await privateKeyPem(keys),
    chainPem: '',
    keyType,
    name,
    keys,
  };
}

async function issue(
  ca: TestCa,
  subject: string,
  keyType: KeyType,
  options: { validDays?: number; notBefore?: Date },
  extensions: x509.Extension[],
): Promise<{ pem: string; keys: webcrypto.CryptoKeyPair }> {
  const keys = await generateKeys(keyType);
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: ca.name,
    ...validity(options),
    publicKey: keys.publicKey,
    signingKey: ca.keys.privateKey,
    signingAlgorithm: algorithmFor(ca.keyType),
    extensions: [
      ...extensions,
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      await x509.AuthorityKeyIdentifierExtension.create(ca.keys.publicKey),
    ],
  });
  return { pem: cert.toString('pem') + '\n', keys };
}

/** A server certificate signed by `ca`; its chain is the leaf followed by `ca.chainPem`. */
export async function issueCertificate(ca: TestCa, options: IssueOptions): Promise<CertifiedKey> {
  const keyType = options.keyType ?? 'ecdsa-p256';
  const names = [options.hostname, ...(options.altNames ?? [])];
  const { pem, keys } = await issue(ca, cnOf(options.hostname), keyType, options, leafExtensions(names));
  return { certificateChainPem: pem + ca.chainPem, privateKeyPem: await privateKeyPem(keys) };
}

/** An intermediate CA signed by `ca`, itself able to issue. */
export async function issueIntermediateCa(ca: TestCa, options: TestCaOptions = {}): Promise<TestCa> {
  const keyType = options.keyType ?? 'ecdsa-p256';
  const name = cnOf(options.commonName ?? `Postern Test Intermediate ${serialNumber().slice(0, 8)}`);
  const { pem, keys } = await issue(
    ca,
    name,
    keyType,
    { validDays: options.validDays ?? 1825, notBefore: options.notBefore },
    caExtensions(options.pathLength),
  );
  return {
    certificatePem: pem,
    privateKeyPem: await privateKeyPem(keys),
    chainPem: pem + ca.chainPem,
    keyType,
    name,
    keys,
  };
}
