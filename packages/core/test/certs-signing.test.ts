/** CertificateVerify signatures (RFC 8446 §4.2.3, §4.4.3) with every key type Postern issues. */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createPrivateKey, createPublicKey, generateKeyPairSync, verify } from 'node:crypto';
import { CertificateError } from '../src/errors.js';
import { parsePemChain } from '../src/certs/pem.js';
import { generateSelfSigned, type KeyType } from '../src/certs/self-signed.js';
import {
  SIGNATURE_SCHEME_CODES,
  loadSigningKey,
  schemeFromCode,
  verifySignature,
  type SignatureScheme,
} from '../src/certs/signing.js';
import { hasProgram } from '../src/testing.js';

const EXPECTED_SCHEMES: Record<KeyType, SignatureScheme[]> = {
  'ecdsa-p256': ['ecdsa_secp256r1_sha256'],
  'ecdsa-p384': ['ecdsa_secp384r1_sha384'],
  ed25519: ['ed25519'],
  'rsa-2048': ['rsa_pss_rsae_sha256', 'rsa_pss_rsae_sha384', 'rsa_pss_rsae_sha512'],
};

describe('certs/signing', () => {
  it('maps schemes to their IANA code points and back', () => {
    assert.deepEqual(SIGNATURE_SCHEME_CODES, {
      ecdsa_secp256r1_sha256: 0x0403,
      ecdsa_secp384r1_sha384: 0x0503,
      ed25519: 0x0807,
      rsa_pss_rsae_sha256: 0x0804,
      rsa_pss_rsae_sha384: 0x0805,
      rsa_pss_rsae_sha512: 0x0806,
    });
    for (const [name, code] of Object.entries(SIGNATURE_SCHEME_CODES))
      assert.equal(schemeFromCode(code), name);
    assert.equal(schemeFromCode(0x0401), undefined, 'rsa_pkcs1_sha256 is not offered');
    assert.equal(schemeFromCode(0x0809), undefined, 'rsa_pss_pss_sha256 is not offered');
  });

  for (const keyType of Object.keys(EXPECTED_SCHEMES) as KeyType[]) {
    describe(keyType, () => {
      let der: Uint8Array;
      let keyPem: string;
      before(async () => {
        const cert = await generateSelfSigned({ hostname: `${keyType}.postern.test`, keyType });
        [der] = parsePemChain(cert.certificateChainPem);
        keyPem = cert.privateKeyPem;
      });

      it('signs with each of its schemes and verifies with the certificate', () => {
        const key = loadSigningKey(keyPem);
        assert.deepEqual(key.schemes, EXPECTED_SCHEMES[keyType]);
        const data = Buffer.from(' '.repeat(64) + 'TLS 1.3, server CertificateVerify\0' + 'transcript-hash');
        for (const scheme of key.schemes) {
          const sig = key.sign(scheme, data);
          assert.equal(verifySignature(der, scheme, data, sig), true, scheme);
          const tampered = Buffer.from(data);
          tampered[0] ^= 1;
          assert.equal(verifySignature(der, scheme, tampered, sig), false, `${scheme} over other data`);
          const badSig = Uint8Array.from(sig);
          badSig[badSig.length - 1] ^= 1;
          assert.equal(verifySignature(der, scheme, data, badSig), false, `${scheme} with a flipped bit`);
        }
      });

      it('refuses schemes that do not fit the key, both ways', () => {
        const key = loadSigningKey(keyPem);
        const data = Buffer.from('data');
        const sig = key.sign(key.schemes[0], data);
        for (const scheme of Object.keys(SIGNATURE_SCHEME_CODES) as SignatureScheme[]) {
          if (key.schemes.includes(scheme)) continue;
          assert.throws(() => key.sign(scheme, data), CertificateError, scheme);
          assert.equal(verifySignature(der, scheme, data, sig), false, scheme);
        }
      });
    });
  }

  it('makes DER-encoded ECDSA signatures (not IEEE P1363)', async () => {
    const cert = await generateSelfSigned({ hostname: 'der.test' });
    const sig = loadSigningKey(cert.privateKeyPem).sign('ecdsa_secp256r1_sha256', Buffer.from('x'));
    assert.equal(sig[0], 0x30, 'an ECDSA-Sig-Value SEQUENCE');
    assert.equal(sig[1], sig.length - 2);
  });

  it('uses a salt as long as the hash for RSA-PSS (RFC 8446 §4.2.3)', async () => {
    const cert = await generateSelfSigned({ hostname: 'pss.test', keyType: 'rsa-2048' });
    const pub = createPublicKey(createPrivateKey(cert.privateKeyPem));
    const key = loadSigningKey(cert.privateKeyPem);
    const data = Buffer.from('salted');
    const sig = key.sign('rsa_pss_rsae_sha384', data);
    const check = (saltLength: number) =>
      verify('sha384', data, { key: pub, padding: 6 /* RSA_PKCS1_PSS_PADDING */, saltLength }, sig);
    assert.equal(check(48), true);
    assert.equal(check(32), false);
  });

  it('loads SEC1 EC and PKCS#1 RSA keys as well as PKCS#8', () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const sec1 = ec.privateKey.export({ format: 'pem', type: 'sec1' }) as string;
    assert.match(sec1, /BEGIN EC PRIVATE KEY/);
    assert.deepEqual(loadSigningKey(sec1).schemes, ['ecdsa_secp384r1_sha384']);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const pkcs1 = rsa.privateKey.export({ format: 'pem', type: 'pkcs1' }) as string;
    assert.match(pkcs1, /BEGIN RSA PRIVATE KEY/);
    assert.deepEqual(loadSigningKey(pkcs1).schemes, EXPECTED_SCHEMES['rsa-2048']);
  });

  it('loads an OpenSSL `ecparam -genkey` file (EC PARAMETERS before the key)', function () {
    if (!hasProgram('openssl')) this.skip();
    const pem = execFileSync('openssl', ['ecparam', '-name', 'prime256v1', '-genkey'], { encoding: 'utf8' });
    assert.match(pem, /EC PARAMETERS/);
    assert.deepEqual(loadSigningKey(pem).schemes, ['ecdsa_secp256r1_sha256']);
  });

  it('refuses bad input with CertificateError', () => {
    assert.throws(() => loadSigningKey('not a key'), CertificateError);
    const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    assert.throws(() => loadSigningKey(small as string), /shorter than 2048/);
    const secp256k1 = generateKeyPairSync('ec', { namedCurve: 'secp256k1' }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
    });
    assert.throws(() => loadSigningKey(secp256k1 as string), /unsupported EC curve/);
    const x25519 = generateKeyPairSync('x25519').privateKey.export({ format: 'pem', type: 'pkcs8' });
    assert.throws(() => loadSigningKey(x25519 as string), /unsupported key type/);
    const encrypted = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({
      format: 'pem',
      type: 'pkcs8',
      cipher: 'aes-256-cbc',
      passphrase: 'secret',
    });
    assert.throws(() => loadSigningKey(encrypted as string), CertificateError);
    assert.throws(
      () => verifySignature(new Uint8Array([0x30, 0x00]), 'ed25519', new Uint8Array(), new Uint8Array()),
      CertificateError,
    );
  });
});
