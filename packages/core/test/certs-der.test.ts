/**
 * The certificate reader under hostile input: any mutation or truncation of a real certificate
 * is either read or refused with CertificateError, never another exception; and the public
 * entry points built on it answer instead of throwing.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CertificateError } from '../src/errors.js';
import { certificateFields, decodeOid, parseBasicConstraints, readTlv } from '../src/certs/der.js';
import { parsePemChain } from '../src/certs/pem.js';
import { generateSelfSigned } from '../src/certs/self-signed.js';
import { matchesHostname, verifyServerChain } from '../src/certs/verify.js';

describe('certs/der', () => {
  let der: Uint8Array;
  let pem: string;
  before(async () => {
    const key = await generateSelfSigned({ hostname: 'der.postern.test', altNames: ['192.0.2.1'] });
    pem = key.certificateChainPem;
    [der] = parsePemChain(pem);
  });

  it('reads validity, extensions and the CN of a generated certificate', () => {
    const f = certificateFields(der);
    assert.ok(f.notBefore < f.notAfter);
    assert.deepEqual(f.subjectCommonNames, ['der.postern.test']);
    const bc = f.extensions.find((e) => e.oid === '2.5.29.19');
    assert.ok(bc && bc.critical);
    assert.deepEqual(parseBasicConstraints(bc.value), { ca: false, pathLength: undefined });
  });

  it('decodes OIDs and refuses non-minimal or truncated lengths', () => {
    assert.equal(decodeOid(new Uint8Array([0x55, 0x1d, 0x13])), '2.5.29.19');
    assert.equal(
      decodeOid(new Uint8Array([0x2b, 0x06, 0x01, 0x04, 0x01, 0x86, 0x8d, 0x1f])),
      '1.3.6.1.4.1.99999',
    );
    assert.throws(() => decodeOid(new Uint8Array([0x2b, 0x86])), CertificateError);
    assert.throws(() => readTlv(new Uint8Array([0x30, 0x81, 0x05, 0, 0, 0, 0, 0]), 0), /non-minimal/);
    assert.throws(() => readTlv(new Uint8Array([0x30, 0x05, 0, 0]), 0), /longer than its container/);
    assert.throws(() => readTlv(new Uint8Array([0x30]), 0), /truncated/);
  });

  it('reads or refuses with CertificateError any mutated certificate (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }), {
          minLength: 1,
          maxLength: 4,
        }),
        fc.option(fc.nat(), { nil: undefined }),
        (edits, cut) => {
          const bytes = Uint8Array.from(der);
          for (const e of edits) bytes[e.at % bytes.length] = e.value;
          const input = cut === undefined ? bytes : bytes.subarray(0, cut % bytes.length);
          try {
            certificateFields(input);
          } catch (err) {
            assert.ok(err instanceof CertificateError, String(err));
          }
          assert.equal(typeof matchesHostname(input, 'der.postern.test'), 'boolean');
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('verifyServerChain answers for mutated certificates', async () => {
    await fc.assert(
      fc.asyncProperty(fc.nat(), fc.integer({ min: 0, max: 255 }), async (at, value) => {
        const bytes = Uint8Array.from(der);
        bytes[at % bytes.length] = value;
        const verdict = await verifyServerChain([bytes], { ca: pem, serverName: 'der.postern.test' });
        if (bytes.every((b, i) => b === der[i])) assert.equal(verdict.ok, true);
        else assert.equal(typeof verdict.ok, 'boolean');
      }),
      { numRuns: 300 },
    );
  });
});
