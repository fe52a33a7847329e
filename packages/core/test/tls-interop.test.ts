import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  CertificateStore,
  MemorySessionCache,
  TsTlsEngine,
  generateSelfSigned,
  requireProgram,
  type CertifiedKey,
  type TlsServerOptions,
  type TlsSessionInfo,
} from '../src/index.js';

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

/** Our server: greets over TLS, echoes one line, then closes with close_notify. */
async function ourServer(
  key: CertifiedKey,
  engine = new TsTlsEngine(),
  versions: Pick<TlsServerOptions, 'minVersion' | 'maxVersion' | 'keyLog'> = {},
): Promise<{ server: Server; port: number; got: string[]; sessions: TlsSessionInfo[] }> {
  const got: string[] = [];
  const sessions: TlsSessionInfo[] = [];
  const server = createServer(async (socket) => {
    socket.on('error', () => undefined);
    try {
      const tls = await engine.accept(socket, { certificates: new CertificateStore([key]), ...versions });
      sessions.push(tls.session);
      tls.on('error', () => undefined);
      tls.write(`hello ${tls.session.cipherSuite} ${tls.session.group}\n`);
      tls.on('data', (d: Buffer) => {
        got.push(d.toString());
        tls.end();
      });
      tls.on('end', () => tls.end());
    } catch {
      // The client saw the alert; the test asserts on its side.
    }
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, got, sessions };
}

/** `openssl s_server` on a free port; `out()` is what it printed so far. */
async function opensslServer(args: string[]): Promise<{ port: number; out: () => string; stop: () => void }> {
  const probe = createServer();
  probe.listen(0, '127.0.0.1');
  await once(probe, 'listening');
  const port = (probe.address() as AddressInfo).port;
  probe.close();
  const child = spawn('openssl', ['s_server', '-accept', `127.0.0.1:${port}`, ...args], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  return { port, out: () => out, stop: () => child.kill() };
}

/** A TCP connection to `port`, retried while the server starts. */
async function dial(port: number, what: () => string): Promise<Socket> {
  for (let i = 0; ; i++) {
    const socket = netConnect(port, '127.0.0.1');
    const ok = await new Promise<boolean>((resolve) => {
      socket.once('connect', () => resolve(true));
      socket.once('error', () => resolve(false));
    });
    if (ok) return socket;
    if (i > 50) throw new Error(`server did not start: ${what()}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('TLS interop: our engine against OpenSSL and GnuTLS', function () {
  this.timeout(60_000);
  let key: CertifiedKey;
  let caFile: string;
  let dir: string;
  before(async () => {
    key = await generateSelfSigned({ hostname: 'localhost', altNames: ['127.0.0.1'] });
    dir = mkdtempSync(join(tmpdir(), 'tls-interop-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, key.certificateChainPem);
    writeFileSync(join(dir, 'key.pem'), key.privateKeyPem);
  });

  const suites = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
  const groups: Array<[string, string]> = [
    ['X25519', 'x25519'],
    ['P-256', 'secp256r1'],
    ['P-384', 'secp384r1'],
  ];
  for (const suite of suites) {
    for (const [opensslGroup, ourGroup] of groups) {
      it(`openssl s_client: ${suite} with ${opensslGroup}`, async function () {
        requireProgram(this, 'openssl');
        const { server, port, got } = await ourServer(key);
        try {
          const r = await run(
            'openssl',
            [
              's_client',
              '-connect',
              `127.0.0.1:${port}`,
              '-servername',
              'localhost',
              '-CAfile',
              caFile,
              '-verify_return_error',
              '-tls1_3',
              '-ciphersuites',
              suite,
              '-groups',
              opensslGroup,
              '-ign_eof',
              '-brief',
            ],
            'ping from openssl\n',
          );
          assert.match(r.out, /Protocol version: TLSv1\.3/);
          assert.match(r.out, new RegExp(`Ciphersuite: ${suite}`));
          assert.match(r.out, /Verification: OK/);
          assert.match(r.out, new RegExp(`hello ${suite} ${ourGroup}`));
          assert.deepEqual(got, ['ping from openssl\n']);
        } finally {
          server.close();
        }
      });
    }
  }

  it('openssl s_client whose key share is for a group we lack gets a HelloRetryRequest for P-384', async function () {
    requireProgram(this, 'openssl');
    const { server, port } = await ourServer(key);
    try {
      // openssl sends a share for its first group only; listing P-384 after X448 (which we lack) forces HRR.
      const r = await run(
        'openssl',
        [
          's_client',
          '-connect',
          `127.0.0.1:${port}`,
          '-servername',
          'localhost',
          '-CAfile',
          caFile,
          '-tls1_3',
          '-groups',
          'X448:P-384',
          '-ign_eof',
          '-brief',
          '-msg',
        ],
        'x\n',
      );
      assert.match(
        r.out,
        /ServerHello[\s\S]*ServerHello/,
        'two ServerHellos: the first is the HelloRetryRequest',
      );
      assert.match(r.out, /Protocol version: TLSv1\.3/);
      assert.match(r.out, /hello TLS_\w+ secp384r1/);
    } finally {
      server.close();
    }
  });

  it('gnutls-cli connects, verifies and reads our greeting', async function () {
    requireProgram(this, 'gnutls-cli');
    const { server, port } = await ourServer(key);
    try {
      const r = await run(
        'gnutls-cli',
        [
          '--x509cafile',
          caFile,
          '--port',
          String(port),
          '--sni-hostname',
          'localhost',
          '--verify-hostname',
          'localhost',
          '--priority',
          'NORMAL:-VERS-ALL:+VERS-TLS1.3',
          '127.0.0.1',
        ],
        'ping from gnutls\n',
      );
      assert.match(r.out, /Handshake was completed/);
      assert.match(r.out, /TLS1\.3/);
      assert.match(r.out, /hello TLS_\w+ \w+/);
    } finally {
      server.close();
    }
  });

  it('openssl s_client offering only TLS 1.2 gets protocol_version from a server with minVersion TLSv1.3', async function () {
    requireProgram(this, 'openssl');
    const { server, port } = await ourServer(key, new TsTlsEngine(), { minVersion: 'TLSv1.3' });
    try {
      const r = await run('openssl', ['s_client', '-connect', `127.0.0.1:${port}`, '-tls1_2', '-brief'], '');
      assert.match(r.out, /alert protocol version/);
      assert.doesNotMatch(r.out, /Protocol version: TLSv1\.2/);
    } finally {
      server.close();
    }
  });

  for (const crypto of ['node', 'noble'] as const) {
    it(`our client (${crypto} crypto) against openssl s_server, including a HelloRetryRequest to P-384`, async function () {
      requireProgram(this, 'openssl');
      const probe = createServer();
      probe.listen(0, '127.0.0.1');
      await once(probe, 'listening');
      const port = (probe.address() as AddressInfo).port;
      probe.close();
      const child = spawn(
        'openssl',
        [
          's_server',
          '-accept',
          `127.0.0.1:${port}`,
          '-cert',
          caFile,
          '-key',
          join(dir, 'key.pem'),
          '-tls1_3',
          '-groups',
          'P-384',
          '-naccept',
          '1',
          '-quiet',
        ],
        { stdio: ['pipe', 'pipe', 'pipe'] },
      );
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      try {
        let socket;
        for (let i = 0; ; i++) {
          socket = netConnect(port, '127.0.0.1');
          const s = socket;
          const ok = await new Promise<boolean>((resolve) => {
            s.once('connect', () => resolve(true));
            s.once('error', () => resolve(false));
          });
          if (ok) break;
          if (i > 50) throw new Error(`openssl s_server did not start: ${out}`);
          await new Promise((r) => setTimeout(r, 100));
        }
        const tls = await new TsTlsEngine({ crypto }).connect(socket, {
          serverName: 'localhost',
          ca: key.certificateChainPem,
        });
        tls.on('error', () => undefined);
        assert.equal(tls.session.group, 'secp384r1');
        assert.equal(tls.session.peerVerified, true);
        tls.write('ping from postern\n');
        for (let i = 0; i < 100 && !out.includes('ping from postern'); i++)
          await new Promise((r) => setTimeout(r, 50));
        assert.match(out, /ping from postern/);
        tls.end();
      } finally {
        child.kill();
      }
    });
  }

  describe('TLS 1.3 resumption', () => {
    const sClient = (port: number) => [
      's_client',
      '-connect',
      `127.0.0.1:${port}`,
      '-servername',
      'localhost',
      '-CAfile',
      caFile,
      '-verify_return_error',
      '-tls1_3',
      '-ign_eof',
    ];

    it('openssl s_client resumes with the ticket it saved (-sess_out, then -sess_in): Reused, TLSv1.3, the same key-log secrets', async function () {
      requireProgram(this, 'openssl');
      const ours: string[] = [];
      const { server, port, sessions } = await ourServer(key, new TsTlsEngine(), {
        keyLog: (l) => ours.push(l),
      });
      const sess = join(dir, 'session.pem');
      const keyLogFile = join(dir, 'openssl-keylog.txt');
      try {
        const first = await run('openssl', [...sClient(port), '-sess_out', sess], 'first\n');
        assert.match(first.out, /New, TLSv1\.3/);
        const second = await run(
          'openssl',
          [...sClient(port), '-sess_in', sess, '-keylogfile', keyLogFile],
          'second\n',
        );
        assert.match(second.out, /Reused, TLSv1\.3/);
        assert.match(second.out, /Verify return code: 0/);
        assert.match(second.out, /hello TLS_\w+ \w+/);
        assert.deepEqual(
          sessions.map((s) => s.resumed),
          [false, true],
        );
        // The resumed session's secrets, as OpenSSL logged them, are the ones we logged.
        const theirs = readFileSync(keyLogFile, 'latin1')
          .split('\n')
          .filter((l) => /^[A-Z]/.test(l));
        assert.equal(theirs.length, 5);
        for (const line of theirs) assert.ok(ours.includes(line), line);
      } finally {
        server.close();
      }
    });

    it('our client resumes against openssl s_server with one of its tickets', async function () {
      requireProgram(this, 'openssl');
      const s = await opensslServer([
        '-cert',
        caFile,
        '-key',
        join(dir, 'key.pem'),
        '-tls1_3',
        '-naccept',
        '2',
      ]);
      const cache = new MemorySessionCache();
      try {
        const sessions: TlsSessionInfo[] = [];
        for (const line of ['first from postern', 'second from postern']) {
          const tls = await new TsTlsEngine().connect(await dial(s.port, s.out), {
            serverName: 'localhost',
            ca: key.certificateChainPem,
            sessionCache: cache,
          });
          tls.on('error', () => undefined);
          sessions.push(tls.session);
          tls.write(`${line}\n`);
          for (let i = 0; i < 100 && !(s.out().includes(line) && cache.size > 0); i++)
            await new Promise((r) => setTimeout(r, 50));
          assert.match(s.out(), new RegExp(line));
          tls.end();
        }
        assert.deepEqual(
          sessions.map((x) => x.resumed),
          [false, true],
        );
        assert.equal(sessions[1]!.peerVerified, true);
        assert.equal(sessions[1]!.peerCertificates.length, 1);
        assert.match(s.out(), /Reused session-id/);
      } finally {
        s.stop();
      }
    });

    it('gnutls-cli --resume resumes against our server', async function () {
      requireProgram(this, 'gnutls-cli');
      const { server, port, sessions } = await ourServer(key);
      try {
        const r = await run(
          'gnutls-cli',
          [
            '--x509cafile',
            caFile,
            '--port',
            String(port),
            '--sni-hostname',
            'localhost',
            '--verify-hostname',
            'localhost',
            '--priority',
            'NORMAL:-VERS-ALL:+VERS-TLS1.3',
            '--resume',
            '127.0.0.1',
          ],
          'ping from gnutls\n',
        );
        assert.match(r.out, /This is a resumed session/);
        assert.equal(sessions.length, 2);
        assert.equal(sessions[1]!.resumed, true);
      } finally {
        server.close();
      }
    });
  });
});
