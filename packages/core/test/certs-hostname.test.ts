/** RFC 6125 §6 name matching (with RFC 9525's restrictions) on real certificates. */
import assert from 'node:assert/strict';
import { parsePemChain } from '../src/certs/pem.js';
import { generateSelfSigned } from '../src/certs/self-signed.js';
import { ipAddressBytes } from '../src/certs/hostname.js';
import { matchesHostname } from '../src/certs/verify.js';
import { makeCert, makeRoot } from './helpers/cert-factory.js';

async function withSans(...names: string[]): Promise<Uint8Array> {
  const root = await makeRoot();
  const cert = await makeCert({
    subject: 'CN=cn-only.postern.test',
    issuer: root,
    san: names.map((n) => ({ type: ipAddressBytes(n) ? ('ip' as const) : ('dns' as const), value: n })),
  });
  return cert.der;
}

describe('certs/hostname: matchesHostname', () => {
  it('matches a DNS SAN exactly, ignoring case and a trailing dot', async () => {
    const der = await withSans('mail.Example.org', 'mx.example.org');
    for (const ok of ['mail.example.org', 'MAIL.EXAMPLE.ORG', 'mail.example.org.', 'mx.example.org']) {
      assert.equal(matchesHostname(der, ok), true, ok);
    }
    for (const no of [
      'example.org',
      'ail.example.org',
      'mail.example.org.evil',
      'mail.example.or',
      '',
      '.',
    ]) {
      assert.equal(matchesHostname(der, no), false, no);
    }
  });

  it('works on generated certificates (hostname and altNames)', async () => {
    const { certificateChainPem } = await generateSelfSigned({
      hostname: 'a.test',
      altNames: ['b.test', '127.0.0.1'],
    });
    const [der] = parsePemChain(certificateChainPem);
    assert.equal(matchesHostname(der, 'a.test'), true);
    assert.equal(matchesHostname(der, 'b.test'), true);
    assert.equal(matchesHostname(der, '127.0.0.1'), true);
    assert.equal(matchesHostname(der, 'c.test'), false);
  });

  it('lets a wildcard stand for exactly one whole left-most label', async () => {
    const der = await withSans('*.example.com');
    assert.equal(matchesHostname(der, 'www.example.com'), true);
    assert.equal(matchesHostname(der, 'WWW.Example.COM'), true);
    assert.equal(matchesHostname(der, 'example.com'), false, 'no label for the wildcard');
    assert.equal(matchesHostname(der, 'a.b.example.com'), false, 'two labels');
    assert.equal(matchesHostname(der, '.example.com'), false, 'empty label');
    assert.equal(matchesHostname(der, 'www.example.com.evil'), false);
  });

  it('refuses partial, inner and too-broad wildcards', async () => {
    const der = await withSans(
      'f*.example.com',
      '*oo.example.net',
      'a.*.example.org',
      '*.com',
      '*',
      'w*w.example.info',
    );
    for (const name of [
      'foo.example.com',
      'foo.example.net',
      'a.b.example.org',
      'example.com',
      'x',
      'www.example.info',
    ]) {
      assert.equal(matchesHostname(der, name), false, name);
    }
  });

  it('never lets a name with an asterisk match', async () => {
    const der = await withSans('*.example.com');
    assert.equal(matchesHostname(der, '*.example.com'), false);
  });

  it('matches IP addresses only against iPAddress SANs', async () => {
    const der = await withSans('192.0.2.7', '2001:db8::1', '198.51.100.1.nip.test');
    assert.equal(matchesHostname(der, '192.0.2.7'), true);
    assert.equal(matchesHostname(der, '2001:db8::1'), true);
    assert.equal(matchesHostname(der, '2001:DB8:0:0:0:0:0:1'), true);
    assert.equal(matchesHostname(der, '[2001:db8::1]'), true);
    assert.equal(matchesHostname(der, '192.0.2.8'), false);
    assert.equal(matchesHostname(der, '::ffff:192.0.2.7'), false, 'a mapped address is another address');
    const dnsOnly = await withSans('192.0.2.9');
    const asDns = await makeCert({ subject: 'CN=192.0.2.10', san: [{ type: 'dns', value: '192.0.2.10' }] });
    assert.equal(matchesHostname(dnsOnly, '192.0.2.9'), true, 'stored as iPAddress by the factory');
    assert.equal(matchesHostname(asDns.der, '192.0.2.10'), false, 'an IP never matches a dNSName');
  });

  it('ignores the CN when the certificate has SANs', async () => {
    const der = await withSans('other.postern.test');
    assert.equal(matchesHostname(der, 'cn-only.postern.test'), false);
  });

  it('falls back to the CN only without any SAN, and never for an IP', async () => {
    const legacy = await makeCert({ subject: 'O=Old, CN=Legacy.Postern.test' });
    assert.equal(matchesHostname(legacy.der, 'legacy.postern.test'), true);
    assert.equal(matchesHostname(legacy.der, 'other.postern.test'), false);
    const wild = await makeCert({ subject: 'CN=*.legacy.test' });
    assert.equal(matchesHostname(wild.der, 'a.legacy.test'), true);
    const ipCn = await makeCert({ subject: 'CN=192.0.2.1' });
    assert.equal(matchesHostname(ipCn.der, '192.0.2.1'), false);
  });

  it('compares internationalised names in their A-label form', async () => {
    const der = await withSans('xn--bcher-kva.example');
    assert.equal(matchesHostname(der, 'bücher.example'), true);
    assert.equal(matchesHostname(der, 'xn--bcher-kva.example'), true);
    assert.equal(matchesHostname(der, 'bucher.example'), false);
  });

  it('answers false for a malformed certificate', () => {
    assert.equal(matchesHostname(new Uint8Array([0x30, 0x03, 0x02, 0x01]), 'a.test'), false);
    assert.equal(matchesHostname(new Uint8Array(0), 'a.test'), false);
  });

  it('parses IP addresses to octets', () => {
    assert.deepEqual([...ipAddressBytes('10.1.2.3')!], [10, 1, 2, 3]);
    assert.deepEqual([...ipAddressBytes('::1')!], [...new Array(15).fill(0), 1]);
    assert.deepEqual(
      [...ipAddressBytes('::ffff:1.2.3.4')!],
      [...new Array(10).fill(0), 255, 255, 1, 2, 3, 4],
    );
    assert.deepEqual(
      [...ipAddressBytes('1:2:3:4:5:6:7:8')!],
      [0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 6, 0, 7, 0, 8],
    );
    assert.equal(ipAddressBytes('1.2.3'), undefined);
    assert.equal(ipAddressBytes('256.1.1.1'), undefined);
    assert.equal(ipAddressBytes('example.com'), undefined);
    assert.equal(ipAddressBytes('fe80::1%eth0'), undefined);
  });
});
