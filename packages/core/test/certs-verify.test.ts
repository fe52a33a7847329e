/**
 * Client-side chain verification (RFC 5280 §6, RFC 8446 §4.4.2.4): path building, signatures,
 * validity, CA rules, name constraints, the host name — and agreement with OpenSSL (node:tls).
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as tls from 'node:tls';
import { x509 } from '../src/certs/x509.js';
import { parsePemChain } from '../src/certs/pem.js';
import {
  generateSelfSigned,
  generateTestCa,
  issueCertificate,
  issueIntermediateCa,
  type TestCa,
} from '../src/certs/self-signed.js';
import { verifyServerChain } from '../src/certs/verify.js';
import { KU, makeCert, makeLeaf, makeRoot, type MadeCert } from './helpers/cert-factory.js';
import { socketPair } from './helpers/socket-pair.js';

const DAY = 86_400_000;
const HOST = 'mx.postern.test';

function chainOf(...certs: MadeCert[]): Uint8Array[] {
  return certs.map((c) => c.der);
}

async function expectFail(p: Promise<{ ok: boolean; reason?: string }>, pattern: RegExp): Promise<void> {
  const verdict = await p;
  assert.equal(verdict.ok, false, 'must not verify');
  assert.match((verdict as { reason: string }).reason, pattern);
}

/** DER: one TLV with a short or long length. */
function tlv(tag: number, ...content: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(content);
  const len = body.length < 0x80 ? [body.length] : [0x82, body.length >> 8, body.length & 0xff];
  return Buffer.concat([Buffer.from([tag, ...len]), body]);
}

function nameConstraints(permitted: string[], excluded: string[] = []): x509.Extension {
  const subtrees = (names: string[]) => names.map((n) => tlv(0x30, tlv(0x82, Buffer.from(n, 'latin1'))));
  const parts: Uint8Array[] = [];
  if (permitted.length) parts.push(tlv(0xa0, ...subtrees(permitted)));
  if (excluded.length) parts.push(tlv(0xa1, ...subtrees(excluded)));
  return new x509.Extension('2.5.29.30', true, tlv(0x30, ...parts));
}

describe('certs/verify: verifyServerChain', () => {
  let root: TestCa;
  let inter: TestCa;
  before(async () => {
    root = await generateTestCa({ keyType: 'ecdsa-p384' });
    inter = await issueIntermediateCa(root, { keyType: 'rsa-2048' });
  });

  describe('paths', () => {
    it('accepts leaf → root', async () => {
      const leaf = await issueCertificate(root, { hostname: HOST });
      assert.deepEqual(
        await verifyServerChain(parsePemChain(leaf.certificateChainPem), {
          ca: root.certificatePem,
          serverName: HOST,
        }),
        { ok: true },
      );
    });

    it('accepts leaf → intermediate → root, for every leaf key type', async () => {
      for (const keyType of ['ecdsa-p256', 'ecdsa-p384', 'ed25519', 'rsa-2048'] as const) {
        const leaf = await issueCertificate(inter, { hostname: HOST, keyType });
        const chain = parsePemChain(leaf.certificateChainPem);
        assert.equal(chain.length, 2);
        assert.deepEqual(
          await verifyServerChain(chain, { ca: [root.certificatePem], serverName: HOST }),
          { ok: true },
          keyType,
        );
      }
    });

    it('builds the path whatever the order of the intermediates, ignoring extras', async () => {
      const leaf = await issueCertificate(inter, { hostname: HOST });
      const other = await generateTestCa();
      const [leafDer, interDer] = parsePemChain(leaf.certificateChainPem);
      const noise = parsePemChain(other.certificatePem)[0];
      const chain = [leafDer, noise, parsePemChain(root.certificatePem)[0], interDer, interDer];
      assert.deepEqual(await verifyServerChain(chain, { ca: root.certificatePem, serverName: HOST }), {
        ok: true,
      });
    });

    it('accepts a self-signed certificate given as its own trust anchor', async () => {
      const self = await generateSelfSigned({ hostname: HOST });
      const chain = parsePemChain(self.certificateChainPem);
      assert.deepEqual(await verifyServerChain(chain, { ca: self.certificateChainPem, serverName: HOST }), {
        ok: true,
      });
      await expectFail(
        verifyServerChain(chain, { ca: self.certificateChainPem, serverName: 'other.test' }),
        /does not name/,
      );
    });

    it('fails without the intermediate', async () => {
      const leaf = await issueCertificate(inter, { hostname: HOST });
      const [leafDer] = parsePemChain(leaf.certificateChainPem);
      await expectFail(verifyServerChain([leafDer], { ca: root.certificatePem }), /no trusted issuer/);
    });

    it('fails against an unrelated CA and against the default root store', async () => {
      const leaf = await issueCertificate(root, { hostname: HOST });
      const chain = parsePemChain(leaf.certificateChainPem);
      const stranger = await generateTestCa();
      await expectFail(
        verifyServerChain(chain, { ca: stranger.certificatePem, serverName: HOST }),
        /no trusted issuer/,
      );
      await expectFail(verifyServerChain(chain, { serverName: HOST }), /no trusted issuer/);
    });

    it('fails when a CA with the same name but another key is trusted', async () => {
      const rootA = await makeRoot('CN=Twin Root');
      const rootB = await makeRoot('CN=Twin Root');
      const leaf = await makeLeaf(rootA, [HOST]);
      await expectFail(verifyServerChain(chainOf(leaf), { ca: rootB.pem }), /no trusted issuer|signature/);
      assert.deepEqual(await verifyServerChain(chainOf(leaf), { ca: [rootB.pem, rootA.pem] }), { ok: true });
    });

    it('fails on a tampered signature', async () => {
      const r = await makeRoot();
      const leaf = await makeLeaf(r, [HOST]);
      const bad = Uint8Array.from(leaf.der);
      bad[bad.length - 5] ^= 0x01;
      await expectFail(verifyServerChain([bad], { ca: r.pem }), /bad signature/);
    });

    it('bounds the path search when many certificates share a name and a key', async () => {
      const anchor = await makeRoot('CN=Elsewhere');
      const first = await makeCert({ subject: 'CN=Loop', ca: true });
      const loop = [first];
      for (let i = 0; i < 8; i++)
        loop.push(await makeCert({ subject: 'CN=Loop', ca: true, keys: first.keys }));
      const leaf = await makeLeaf(first, [HOST]);
      await expectFail(
        verifyServerChain(chainOf(leaf, ...loop), { ca: anchor.pem }),
        /too many candidate paths/,
      );
    });

    it('answers, never throws, on malformed or missing input', async () => {
      await expectFail(verifyServerChain([], { ca: root.certificatePem }), /no certificate/);
      await expectFail(
        verifyServerChain([new Uint8Array([1, 2, 3])], { ca: root.certificatePem }),
        /malformed/,
      );
      const leaf = parsePemChain((await issueCertificate(root, { hostname: HOST })).certificateChainPem);
      await expectFail(verifyServerChain(leaf, { ca: 'not pem' }), /bad trust anchors/);
      await expectFail(
        verifyServerChain(new Array(11).fill(leaf[0]), { ca: root.certificatePem }),
        /longer than 10/,
      );
    });
  });

  describe('validity', () => {
    it('fails for an expired or not yet valid leaf, judged at `now`', async () => {
      const leaf = parsePemChain(
        (await issueCertificate(root, { hostname: HOST, validDays: 30 })).certificateChainPem,
      );
      const opts = { ca: root.certificatePem, serverName: HOST };
      await expectFail(verifyServerChain(leaf, { ...opts, now: new Date(Date.now() + 31 * DAY) }), /expired/);
      await expectFail(
        verifyServerChain(leaf, { ...opts, now: new Date(Date.now() - DAY) }),
        /not yet valid/,
      );
      assert.deepEqual(await verifyServerChain(leaf, { ...opts, now: new Date(Date.now() + 29 * DAY) }), {
        ok: true,
      });
    });

    it('fails for an expired intermediate and an expired root', async () => {
      const r = await makeRoot();
      const oldInter = await makeCert({
        subject: 'CN=Old Intermediate',
        issuer: r,
        ca: true,
        keyUsage: KU.keyCertSign,
        notBefore: new Date(Date.now() - 10 * DAY),
        notAfter: new Date(Date.now() - DAY),
      });
      const leaf = await makeLeaf(oldInter, [HOST]);
      await expectFail(
        verifyServerChain(chainOf(leaf, oldInter), { ca: r.pem }),
        /Old Intermediate.*expired/,
      );
      const oldRoot = await makeRoot('CN=Old Root', {
        notBefore: new Date(Date.now() - 10 * DAY),
        notAfter: new Date(Date.now() - DAY),
      });
      const leaf2 = await makeLeaf(oldRoot, [HOST]);
      await expectFail(verifyServerChain(chainOf(leaf2), { ca: oldRoot.pem }), /Old Root.*expired/);
    });
  });

  describe('CA rules', () => {
    it('refuses an issuer that is not a CA', async () => {
      const r = await makeRoot();
      const notCa = await makeLeaf(r, ['intermediate.test']);
      const leaf = await makeLeaf(notCa, [HOST]);
      await expectFail(verifyServerChain(chainOf(leaf, notCa), { ca: r.pem }), /not a CA/);
      const noBc = await makeCert({ subject: 'CN=No BC', issuer: r, keyUsage: KU.keyCertSign });
      const leaf2 = await makeLeaf(noBc, [HOST]);
      await expectFail(verifyServerChain(chainOf(leaf2, noBc), { ca: r.pem }), /not a CA/);
    });

    it('accepts a v1-style trust anchor without basicConstraints', async () => {
      const oldRoot = await makeCert({ subject: 'CN=V1 Root' });
      const leaf = await makeLeaf(oldRoot, [HOST]);
      assert.deepEqual(await verifyServerChain(chainOf(leaf), { ca: oldRoot.pem, serverName: HOST }), {
        ok: true,
      });
    });

    it('enforces pathLenConstraint', async () => {
      const r0 = await makeRoot('CN=PathLen0 Root', { pathLength: 0 });
      const i = await makeCert({
        subject: 'CN=Under PathLen0',
        issuer: r0,
        ca: true,
        keyUsage: KU.keyCertSign,
      });
      await expectFail(
        verifyServerChain(chainOf(await makeLeaf(i, [HOST]), i), { ca: r0.pem }),
        /allows 0 intermediates/,
      );
      assert.deepEqual(await verifyServerChain(chainOf(await makeLeaf(r0, [HOST])), { ca: r0.pem }), {
        ok: true,
      });
      const i0 = await makeCert({
        subject: 'CN=I0',
        issuer: r0,
        ca: true,
        pathLength: 0,
        keyUsage: KU.keyCertSign,
      });
      const r1 = await makeRoot('CN=PathLen1 Root', { pathLength: 1 });
      const i1 = await makeCert({
        subject: 'CN=I1',
        issuer: r1,
        ca: true,
        pathLength: 0,
        keyUsage: KU.keyCertSign,
      });
      assert.deepEqual(await verifyServerChain(chainOf(await makeLeaf(i1, [HOST]), i1), { ca: r1.pem }), {
        ok: true,
      });
      void i0;
    });

    it('refuses an issuer whose keyUsage lacks keyCertSign', async () => {
      const r = await makeRoot();
      const i = await makeCert({
        subject: 'CN=No CertSign',
        issuer: r,
        ca: true,
        keyUsage: KU.digitalSignature,
      });
      await expectFail(
        verifyServerChain(chainOf(await makeLeaf(i, [HOST]), i), { ca: r.pem }),
        /may not sign certificates/,
      );
    });

    it('refuses a leaf not meant for TLS servers', async () => {
      const r = await makeRoot();
      const clientOnly = await makeLeaf(r, [HOST], { eku: ['1.3.6.1.5.5.7.3.2'] });
      await expectFail(verifyServerChain(chainOf(clientOnly), { ca: r.pem }), /extKeyUsage/);
      const noSign = await makeLeaf(r, [HOST], { keyUsage: KU.keyEncipherment });
      await expectFail(verifyServerChain(chainOf(noSign), { ca: r.pem }), /keyUsage/);
      const anyEku = await makeLeaf(r, [HOST], { eku: ['2.5.29.37.0'] });
      assert.deepEqual(await verifyServerChain(chainOf(anyEku), { ca: r.pem }), { ok: true });
    });

    it('refuses unknown critical extensions, tolerates unknown non-critical ones', async () => {
      const r = await makeRoot();
      const value = new Uint8Array([0x05, 0x00]);
      const critical = await makeLeaf(r, [HOST], {
        extra: [new x509.Extension('1.3.6.1.4.1.99999.1', true, value)],
      });
      await expectFail(
        verifyServerChain(chainOf(critical), { ca: r.pem }),
        /unsupported critical extension 1\.3\.6\.1\.4\.1\.99999\.1/,
      );
      const plain = await makeLeaf(r, [HOST], {
        extra: [new x509.Extension('1.3.6.1.4.1.99999.1', false, value)],
      });
      assert.deepEqual(await verifyServerChain(chainOf(plain), { ca: r.pem }), { ok: true });
    });

    it('honours name constraints on the anchor and on intermediates', async () => {
      const r = await makeRoot('CN=Constrained Root', {
        extra: [nameConstraints(['postern.test'], ['bad.postern.test'])],
      });
      const ok = await makeLeaf(r, ['mx.postern.test', 'postern.test']);
      assert.deepEqual(await verifyServerChain(chainOf(ok), { ca: r.pem }), { ok: true });
      await expectFail(
        verifyServerChain(chainOf(await makeLeaf(r, ['bank.example'])), { ca: r.pem }),
        /outside/,
      );
      await expectFail(
        verifyServerChain(chainOf(await makeLeaf(r, ['x.bad.postern.test'])), { ca: r.pem }),
        /excluded/,
      );
      await expectFail(
        verifyServerChain(chainOf(await makeLeaf(r, ['notpostern.test'])), { ca: r.pem }),
        /outside/,
      );
      const free = await makeRoot();
      const i = await makeCert({
        subject: 'CN=Constrained Intermediate',
        issuer: free,
        ca: true,
        keyUsage: KU.keyCertSign,
        extra: [nameConstraints(['example.org'])],
      });
      await expectFail(verifyServerChain(chainOf(await makeLeaf(i, [HOST]), i), { ca: free.pem }), /outside/);
      assert.deepEqual(
        await verifyServerChain(chainOf(await makeLeaf(i, ['a.example.org']), i), { ca: free.pem }),
        { ok: true },
      );
    });
  });

  describe('names', () => {
    it('checks the host name against the leaf, wildcards by the RFC 6125 rules', async () => {
      const leaf = parsePemChain(
        (await issueCertificate(root, { hostname: '*.postern.test' })).certificateChainPem,
      );
      const ca = root.certificatePem;
      assert.deepEqual(await verifyServerChain(leaf, { ca, serverName: 'imap.postern.test' }), { ok: true });
      await expectFail(verifyServerChain(leaf, { ca, serverName: 'postern.test' }), /does not name/);
      await expectFail(verifyServerChain(leaf, { ca, serverName: 'a.b.postern.test' }), /does not name/);
      await expectFail(verifyServerChain(leaf, { ca, serverName: 'imap.postern.example' }), /does not name/);
    });

    it('checks nothing about the name when none is given', async () => {
      const leaf = parsePemChain((await issueCertificate(root, { hostname: HOST })).certificateChainPem);
      assert.deepEqual(await verifyServerChain(leaf, { ca: root.certificatePem }), { ok: true });
    });
  });

  describe('agreement with OpenSSL (node:tls)', () => {
    async function opensslVerdict(chainPem: string, keyPem: string, ca: string, servername: string) {
      const pair = await socketPair();
      try {
        const server = new tls.TLSSocket(pair.server, {
          isServer: true,
          secureContext: tls.createSecureContext({ cert: chainPem, key: keyPem }),
        });
        server.on('error', () => {});
        const client = tls.connect({ socket: pair.client, ca, servername, rejectUnauthorized: false });
        await once(client, 'secureConnect');
        const peer = client.getPeerCertificate(true);
        const chain: Uint8Array[] = [];
        const seen = new Set<string>();
        for (
          let c: tls.DetailedPeerCertificate | undefined = peer;
          c?.raw && !seen.has(c.fingerprint256);
          c = c.issuerCertificate
        ) {
          seen.add(c.fingerprint256);
          chain.push(new Uint8Array(c.raw));
        }
        const authorized = client.authorized && tls.checkServerIdentity(servername, peer) === undefined;
        client.destroy();
        server.destroy();
        return { authorized, chain };
      } finally {
        await pair.close();
      }
    }

    it('accepts and refuses the same chains', async () => {
      const leaf = await issueCertificate(inter, { hostname: HOST, altNames: ['*.mail.postern.test'] });
      const stranger = await generateTestCa();
      const cases: Array<[string, string]> = [
        [root.certificatePem, HOST],
        [root.certificatePem, 'imap.mail.postern.test'],
        [root.certificatePem, 'other.postern.test'],
        [stranger.certificatePem, HOST],
      ];
      for (const [ca, name] of cases) {
        const openssl = await opensslVerdict(leaf.certificateChainPem, leaf.privateKeyPem, ca, name);
        const ours = await verifyServerChain(parsePemChain(leaf.certificateChainPem), {
          ca,
          serverName: name,
        });
        assert.equal(
          ours.ok,
          openssl.authorized,
          `${name} with ${ca === root.certificatePem ? 'the root' : 'a stranger'}`,
        );
      }
    });
  });
});
