/** Generated certificates: every key type works in a real TLS handshake, and the test CA issues chains. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import * as tls from 'node:tls';
import { CertificateStore, checkCertifiedKey } from '../src/certs/certificate-store.js';
import { parsePemChain } from '../src/certs/pem.js';
import {
  generateSelfSigned,
  generateTestCa,
  issueCertificate,
  issueIntermediateCa,
  type KeyType,
} from '../src/certs/self-signed.js';
import { loadSigningKey } from '../src/certs/signing.js';
import type { CertifiedKey } from '../src/tls/engine.js';
import { NativeTlsEngine } from '../src/tls/native.js';
import { socketPair } from './helpers/socket-pair.js';

const KEY_TYPES: KeyType[] = ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa-2048'];

/** A TLS 1.3 handshake with `key` on the server (our engine adapter) and node:tls trusting `ca`. */
async function handshake(
  key: CertifiedKey,
  ca: string,
  servername: string,
): Promise<{ authorized: boolean; protocol: string | null }> {
  const pair = await socketPair();
  try {
    const accepting = new NativeTlsEngine().accept(pair.server, {
      certificates: new CertificateStore([key]),
    });
    const client = tls.connect({ socket: pair.client, ca, servername });
    await once(client, 'secureConnect');
    const server = await accepting;
    const result = { authorized: client.authorized, protocol: client.getProtocol() };
    server.destroy();
    client.destroy();
    return result;
  } finally {
    await pair.close();
  }
}

describe('certs/self-signed', () => {
  it('keeps the default: ECDSA P-256, one year, hostname first among the SANs', async () => {
    const notBefore = new Date('2026-01-01T00:00:00Z');
    const key = await generateSelfSigned({
      hostname: 'mail.postern.test',
      altNames: ['127.0.0.1'],
      notBefore,
    });
    const cert = new X509Certificate(key.certificateChainPem);
    assert.equal(cert.publicKey.asymmetricKeyType, 'ec');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.equal(new Date(cert.validFrom).getTime(), notBefore.getTime());
    assert.equal(new Date(cert.validTo).getTime(), notBefore.getTime() + 365 * 86_400_000);
    assert.equal(cert.subjectAltName, 'DNS:mail.postern.test, IP Address:127.0.0.1');
    assert.equal(cert.ca, false);
    assert.match(key.privateKeyPem, /^-----BEGIN PRIVATE KEY-----\n/);
  });

  for (const keyType of KEY_TYPES) {
    it(`makes a working ${keyType} certificate`, async () => {
      const key = await generateSelfSigned({ hostname: 'tls.postern.test', keyType });
      checkCertifiedKey(key);
      assert.ok(loadSigningKey(key.privateKeyPem).schemes.length > 0);
      const client = await handshake(key, key.certificateChainPem, 'tls.postern.test');
      assert.equal(client.authorized, true);
      assert.equal(client.protocol, 'TLSv1.3');
    });
  }

  it('makes a root CA that issues leaves and intermediates OpenSSL accepts', async () => {
    const root = await generateTestCa({ keyType: 'ecdsa-p384' });
    const rootCert = new X509Certificate(root.certificatePem);
    assert.equal(rootCert.ca, true);
    assert.equal(root.chainPem, '');
    const inter = await issueIntermediateCa(root, { keyType: 'rsa-2048' });
    assert.equal(new X509Certificate(inter.certificatePem).ca, true);
    for (const keyType of KEY_TYPES) {
      const leaf = await issueCertificate(inter, {
        hostname: 'mx.postern.test',
        altNames: ['*.mx.postern.test'],
        keyType,
      });
      const chain = parsePemChain(leaf.certificateChainPem);
      assert.equal(chain.length, 2, 'leaf then intermediate, no root');
      const leafCert = new X509Certificate(chain[0]);
      assert.equal(leafCert.checkIssued(new X509Certificate(chain[1])), true);
      assert.equal(leafCert.ca, false);
      const client = await handshake(leaf, root.certificatePem, 'a.mx.postern.test');
      assert.equal(client.authorized, true, keyType);
    }
  });

  it('issues a leaf whose chain is only itself under a root', async () => {
    const root = await generateTestCa();
    const leaf = await issueCertificate(root, { hostname: 'pop.postern.test' });
    assert.equal(parsePemChain(leaf.certificateChainPem).length, 1);
    assert.equal((await handshake(leaf, root.certificatePem, 'pop.postern.test')).authorized, true);
  });
});
