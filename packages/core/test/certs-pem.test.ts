/** PEM (RFC 7468): blocks, chains, and the way back from DER. */
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { CertificateError } from '../src/errors.js';
import { derToPem, parsePemChain, pemBlocks } from '../src/certs/pem.js';
import {
  generateSelfSigned,
  generateTestCa,
  issueCertificate,
  issueIntermediateCa,
} from '../src/certs/self-signed.js';

describe('certs/pem', () => {
  it('parses a chain leaf first, in order, skipping a key in the same file', async () => {
    const root = await generateTestCa();
    const inter = await issueIntermediateCa(root);
    const leaf = await issueCertificate(inter, { hostname: 'mx.postern.test' });
    const file = `Bag Attributes: junk\r\n${leaf.privateKeyPem}${leaf.certificateChainPem.replace(/\n/g, '\r\n')}`;
    const chain = parsePemChain(file);
    assert.equal(chain.length, 2);
    assert.match(new X509Certificate(chain[0]).subject, /CN=mx\.postern\.test/);
    assert.equal(new X509Certificate(chain[1]).subject, new X509Certificate(inter.certificatePem).subject);
  });

  it('accepts the old X509 CERTIFICATE label (RFC 7468 §5.3) and whitespace in the base64', async () => {
    const { certificateChainPem } = await generateSelfSigned({ hostname: 'a.test' });
    const [der] = parsePemChain(certificateChainPem);
    const odd = derToPem('X509 CERTIFICATE', der)
      .split('\n')
      .map((line) => (line.startsWith('-----') ? line : line.replace(/(.{10})/g, '$1 \t')))
      .join('\r\n');
    assert.deepEqual(parsePemChain(odd), [der]);
  });

  it('refuses a chain with no certificate', () => {
    assert.throws(() => parsePemChain('nothing here'), CertificateError);
    assert.throws(
      () => parsePemChain('-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      CertificateError,
    );
  });

  it('refuses unterminated, mislabelled and non-base64 blocks', () => {
    assert.throws(() => pemBlocks('-----BEGIN CERTIFICATE-----\nAAAA\n'), CertificateError);
    assert.throws(
      () => pemBlocks('-----BEGIN CERTIFICATE-----\nAAAA\n-----END PRIVATE KEY-----\n'),
      CertificateError,
    );
    assert.throws(
      () => pemBlocks('-----BEGIN CERTIFICATE-----\nAA*A\n-----END CERTIFICATE-----\n'),
      CertificateError,
    );
    assert.throws(
      () => pemBlocks('-----BEGIN CERTIFICATE-----\nAAA\n-----END CERTIFICATE-----\n'),
      CertificateError,
    );
    assert.throws(
      () =>
        pemBlocks(
          '-----BEGIN CERTIFICATE-----\nAAAA\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n',
        ),
      CertificateError,
    );
  });

  it('filters blocks by label', () => {
    const text =
      derToPem('A', new Uint8Array([1])) +
      derToPem('B', new Uint8Array([2])) +
      derToPem('A', new Uint8Array([3]));
    assert.deepEqual(
      pemBlocks(text, 'A').map((b) => [...b.der]),
      [[1], [3]],
    );
    assert.deepEqual(
      pemBlocks(text).map((b) => b.label),
      ['A', 'B', 'A'],
    );
  });

  it('writes 64-column lines that node:crypto reads back', async () => {
    const { certificateChainPem } = await generateSelfSigned({ hostname: 'b.test' });
    const [der] = parsePemChain(certificateChainPem);
    const pem = derToPem('CERTIFICATE', der);
    assert.ok(pem.split('\n').every((line) => line.length <= 64));
    assert.ok(pem.endsWith('-----END CERTIFICATE-----\n'));
    assert.deepEqual(new Uint8Array(new X509Certificate(pem).raw), der);
  });

  it('round-trips any bytes through derToPem and pemBlocks', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const [block] = pemBlocks(derToPem('TEST DATA', bytes));
        assert.equal(block.label, 'TEST DATA');
        assert.deepEqual(block.der, bytes);
      }),
    );
  });
});
