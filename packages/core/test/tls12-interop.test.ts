/**
 * TLS 1.2 interop: our server against `openssl s_client -tls1_2` (every suite, ECDSA and RSA
 * certificates), `gnutls-cli` limited to TLS 1.2 and node:tls with maxVersion TLSv1.2; our client
 * against `openssl s_server -tls1_2`; and the refusals as OpenSSL sees them: CBC-only,
 * TLS 1.0/1.1, TLS_FALLBACK_SCSV, renegotiation.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tls from 'node:tls';
import {
  CertificateStore,
  TsTlsEngine,
  generateSelfSigned,
  requireProgram,
  type CertifiedKey,
  type TlsStream,
} from '../src/index.js';
import { TLS12_SUITES } from '../src/tls/tls12-suites.js';

function run(
  cmd: string,
  args: string[],
  stdin = '',
  timeoutMs = 15_000,
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, out });
    });
    child.stdin.end(stdin);
  });
}

interface OurServer {
  server: Server;
  port: number;
  got: string[];
  streams: TlsStream[];
  failures: string[];
}

/** Our server: greets with the session facts, records the first thing it reads, then closes. */
async function ourServer(key: CertifiedKey): Promise<OurServer> {
  const s: OurServer = { server: createServer(), port: 0, got: [], streams: [], failures: [] };
  s.server.on('connection', async (socket: Socket) => {
    socket.on('error', () => undefined);
    try {
      const stream = await new TsTlsEngine().accept(socket, { certificates: new CertificateStore([key]) });
      s.streams.push(stream);
      stream.on('error', () => undefined);
      stream.write(
        `hello ${stream.session.version} ${stream.session.cipherSuite} ${stream.session.signatureScheme}\n`,
      );
      stream.on('data', (d: Buffer) => {
        s.got.push(d.toString());
        stream.end();
      });
      stream.on('end', () => stream.end());
    } catch (err) {
      s.failures.push((err as { alert?: string }).alert ?? String(err));
    }
  });
  s.server.listen(0, '127.0.0.1');
  await once(s.server, 'listening');
  s.port = (s.server.address() as AddressInfo).port;
  return s;
}

/** OpenSSL's names for the IANA suites. */
const OPENSSL_NAMES: Record<string, string> = {
  TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256: 'ECDHE-ECDSA-AES128-GCM-SHA256',
  TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384: 'ECDHE-ECDSA-AES256-GCM-SHA384',
  TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-ECDSA-CHACHA20-POLY1305',
  TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256: 'ECDHE-RSA-AES128-GCM-SHA256',
  TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384: 'ECDHE-RSA-AES256-GCM-SHA384',
  TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256: 'ECDHE-RSA-CHACHA20-POLY1305',
};

async function freePort(): Promise<number> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  await new Promise((r) => probe.close(r));
  return port;
}

/** Connect to a port an outside server is still opening (bounded retries, no timing assertions). */
async function connectWhenUp(port: number, log: () => string): Promise<Socket> {
  for (let i = 0; ; i++) {
    const socket = netConnect(port, '127.0.0.1');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (ok) return socket;
    if (i > 50) throw new Error(`server did not start: ${log()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('TLS 1.2 interop: our engine against OpenSSL, GnuTLS and node:tls', function () {
  this.timeout(60_000);
  const keys: Record<'ecdsa' | 'rsa', CertifiedKey> = {} as never;
  const files: Record<'ecdsa' | 'rsa', { cert: string; key: string }> = {} as never;
  before(async () => {
    const dir = mkdtempSync(join(tmpdir(), 'tls12-interop-'));
    for (const [name, keyType] of [
      ['ecdsa', 'ecdsa-p256'],
      ['rsa', 'rsa-2048'],
    ] as const) {
      keys[name] = await generateSelfSigned({ hostname: 'localhost', altNames: ['127.0.0.1'], keyType });
      files[name] = { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
      writeFileSync(files[name].cert, keys[name].certificateChainPem);
      writeFileSync(files[name].key, keys[name].privateKeyPem);
    }
  });

  for (const suite of TLS12_SUITES) {
    it(`openssl s_client -tls1_2: ${suite.name} with an ${suite.auth.toUpperCase()} certificate`, async function () {
      requireProgram(this, 'openssl');
      const s = await ourServer(keys[suite.auth]);
      try {
        const r = await run(
          'openssl',
          [
            's_client',
            '-connect',
            `127.0.0.1:${s.port}`,
            '-servername',
            'localhost',
            '-CAfile',
            files[suite.auth].cert,
            '-verify_return_error',
            '-tls1_2',
            '-cipher',
            OPENSSL_NAMES[suite.name]!,
            '-ign_eof',
            '-brief',
          ],
          'ping from openssl\n',
        );
        assert.match(r.out, /Protocol version: TLSv1\.2/);
        assert.match(r.out, new RegExp(`Ciphersuite: ${OPENSSL_NAMES[suite.name]}`));
        assert.match(r.out, /Verification: OK/);
        assert.match(r.out, new RegExp(`hello TLSv1\\.2 ${suite.name} `));
        assert.deepEqual(s.got, ['ping from openssl\n']);
      } finally {
        s.server.close();
      }
    });
  }

  it('openssl s_client -tls1_2 limited to rsa_pkcs1_sha256 gets a PKCS#1 ServerKeyExchange signature', async function () {
    requireProgram(this, 'openssl');
    const s = await ourServer(keys.rsa);
    try {
      const r = await run(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${s.port}`,
          '-CAfile',
          files.rsa.cert,
          '-tls1_2',
          '-sigalgs',
          'RSA+SHA256',
          '-ign_eof',
          '-brief',
        ],
        'x\n',
      );
      assert.match(r.out, /hello TLSv1\.2 TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 rsa_pkcs1_sha256/);
    } finally {
      s.server.close();
    }
  });

  for (const name of ['ecdsa', 'rsa'] as const) {
    it(`gnutls-cli with TLS 1.2 only (${name.toUpperCase()} certificate)`, async function () {
      requireProgram(this, 'gnutls-cli');
      const s = await ourServer(keys[name]);
      try {
        const r = await run(
          'gnutls-cli',
          [
            '--x509cafile',
            files[name].cert,
            '--port',
            String(s.port),
            '--sni-hostname',
            'localhost',
            '--verify-hostname',
            'localhost',
            '--priority',
            'NORMAL:-VERS-ALL:+VERS-TLS1.2',
            '127.0.0.1',
          ],
          'ping from gnutls\n',
        );
        assert.match(r.out, /Handshake was completed/);
        assert.match(r.out, /\(TLS1\.2-X\.509\)-\(ECDHE-/);
        assert.match(r.out, /Options: extended master secret, safe renegotiation/);
        assert.match(r.out, /hello TLSv1\.2 TLS_ECDHE_/);
      } finally {
        s.server.close();
      }
    });
  }

  it('node:tls with maxVersion TLSv1.2: same suite, and the same RFC 5705 keying material on both sides', async () => {
    const s = await ourServer(keys.ecdsa);
    try {
      const client = tls.connect({
        host: '127.0.0.1',
        port: s.port,
        servername: 'localhost',
        ca: keys.ecdsa.certificateChainPem,
        maxVersion: 'TLSv1.2',
      });
      await once(client, 'secureConnect');
      const [greeting] = (await once(client, 'data')) as [Buffer];
      assert.equal(client.getProtocol(), 'TLSv1.2');
      assert.match(greeting.toString(), new RegExp(`hello TLSv1\\.2 ${client.getCipher().standardName}`));
      const ours = s.streams[0]!;
      assert.equal(ours.session.version, 'TLSv1.2');
      assert.deepEqual(
        ours.exportKeyingMaterial(32, 'EXPORTER-postern'),
        client.exportKeyingMaterial(32, 'EXPORTER-postern', undefined as unknown as Buffer),
      );
      const ctx = Buffer.from('context');
      assert.deepEqual(
        ours.exportKeyingMaterial(32, 'EXPORTER-postern', ctx),
        client.exportKeyingMaterial(32, 'EXPORTER-postern', ctx),
      );
      client.end();
    } finally {
      s.server.close();
    }
  });

  it('node:tls asking to renegotiate is refused (no_renegotiation)', async () => {
    const s = await ourServer(keys.rsa);
    try {
      const client = tls.connect({
        host: '127.0.0.1',
        port: s.port,
        servername: 'localhost',
        ca: keys.rsa.certificateChainPem,
        maxVersion: 'TLSv1.2',
      });
      await once(client, 'secureConnect');
      // OpenSSL reports our no_renegotiation warning as an error on the socket.
      const err = await new Promise<Error | null>((resolve) => {
        client.once('error', resolve);
        client.renegotiate({}, (e) => resolve(e));
      });
      assert.match(String(err?.message), /no renegotiation/i);
      client.destroy();
    } finally {
      s.server.close();
    }
  });

  for (const name of ['ecdsa', 'rsa'] as const) {
    for (const crypto of ['node', 'noble'] as const) {
      it(`our client (${crypto} crypto) against openssl s_server -tls1_2 (${name.toUpperCase()} certificate)`, async function () {
        requireProgram(this, 'openssl');
        const port = await freePort();
        const child = spawn(
          'openssl',
          [
            's_server',
            '-accept',
            `127.0.0.1:${port}`,
            '-cert',
            files[name].cert,
            '-key',
            files[name].key,
            '-tls1_2',
            '-naccept',
            '1',
          ],
          { stdio: ['pipe', 'pipe', 'pipe'] },
        );
        let out = '';
        child.stdout.on('data', (d) => (out += d));
        child.stderr.on('data', (d) => (out += d));
        try {
          const socket = await connectWhenUp(port, () => out);
          const stream = await new TsTlsEngine({ crypto }).connect(socket, {
            serverName: 'localhost',
            ca: keys[name].certificateChainPem,
          });
          stream.on('error', () => undefined);
          assert.equal(stream.session.version, 'TLSv1.2');
          assert.match(stream.session.cipherSuite, new RegExp(`^TLS_ECDHE_${name.toUpperCase()}_WITH_`));
          assert.equal(stream.session.peerVerified, true);
          stream.write('ping from postern\n');
          child.stdin.write('pong from openssl\n');
          const [reply] = (await once(stream, 'data')) as [Buffer];
          assert.equal(reply.toString(), 'pong from openssl\n');
          for (let i = 0; i < 100 && !out.includes('ping from postern'); i++)
            await new Promise((r) => setTimeout(r, 50));
          assert.match(out, /ping from postern/);
          stream.end();
        } finally {
          child.kill();
        }
      });
    }
  }

  it('our client refuses openssl s_server -tls1_2 when it requires TLS 1.3', async function () {
    requireProgram(this, 'openssl');
    const port = await freePort();
    const child = spawn(
      'openssl',
      [
        's_server',
        '-accept',
        `127.0.0.1:${port}`,
        '-cert',
        files.ecdsa.cert,
        '-key',
        files.ecdsa.key,
        '-tls1_2',
        '-naccept',
        '1',
      ],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    child.stderr.on('data', (d) => (out += d));
    try {
      const socket = await connectWhenUp(port, () => out);
      await assert.rejects(
        new TsTlsEngine().connect(socket, {
          serverName: 'localhost',
          ca: keys.ecdsa.certificateChainPem,
          minVersion: 'TLSv1.3',
        }),
        { alert: 'protocol_version' },
      );
    } finally {
      child.kill();
    }
  });

  describe('refusals, as OpenSSL reports them', () => {
    const refused = async (ctx: Mocha.Context, args: string[], alert: RegExp, ours: string) => {
      requireProgram(ctx, 'openssl');
      const s = await ourServer(keys.rsa);
      try {
        const r = await run(
          'openssl',
          ['s_client', '-connect', `127.0.0.1:${s.port}`, '-brief', ...args],
          '',
        );
        assert.match(r.out, alert);
        assert.doesNotMatch(r.out, /Protocol version: /);
        for (let i = 0; i < 100 && s.failures.length === 0; i++)
          await new Promise((res) => setTimeout(res, 20));
        assert.deepEqual(s.failures, [ours]);
      } finally {
        s.server.close();
      }
    };
    it('CBC-only suites (ECDHE-RSA-AES128-SHA) get handshake_failure', async function () {
      await refused(
        this,
        ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-SHA'],
        /alert handshake failure/,
        'handshake_failure',
      );
    });
    it('TLS 1.0 gets protocol_version', async function () {
      await refused(
        this,
        ['-tls1', '-cipher', 'DEFAULT@SECLEVEL=0'],
        /alert protocol version/,
        'protocol_version',
      );
    });
    it('TLS 1.1 gets protocol_version', async function () {
      await refused(
        this,
        ['-tls1_1', '-cipher', 'DEFAULT@SECLEVEL=0'],
        /alert protocol version/,
        'protocol_version',
      );
    });
    it('TLS_FALLBACK_SCSV with TLS 1.2 gets inappropriate_fallback (RFC 7507)', async function () {
      await refused(
        this,
        ['-tls1_2', '-fallback_scsv'],
        /alert inappropriate fallback/,
        'inappropriate_fallback',
      );
    });
  });
});
