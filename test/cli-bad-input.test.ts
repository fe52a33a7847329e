import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { generateSelfSigned } from '@postern/core';
import { runCli, tempDir } from './helpers.js';

/** Every bad input: one clear line on stderr, exit code 2, nothing left running. */
function assertBadInput(r: { code: number | null; stderr: string; stdout: string }, pattern: RegExp) {
  assert.equal(r.code, 2, `exit code (stderr: ${r.stderr})`);
  const lines = r.stderr.trimEnd().split('\n');
  assert.equal(lines.length, 1, `exactly one stderr line, got: ${JSON.stringify(r.stderr)}`);
  assert.match(lines[0], pattern);
  assert.doesNotMatch(r.stdout, /^listening /m, 'no listener may have been reported');
}

const offAll = ['smtp', 'submission', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s', 'nntp', 'nntps'].flatMap(
  (l) => [`--${l}-port`, '0'],
);

describe('postern CLI refuses bad input with exit code 2', function () {
  it('an unknown flag', async () => {
    assertBadInput(await runCli(['serve', '--no-such-flag']), /unknown option '--no-such-flag'/);
  });

  it('an unknown command', async () => {
    assertBadInput(await runCli(['frobnicate']), /unknown command 'frobnicate'/);
  });

  it('a port out of range', async () => {
    assertBadInput(await runCli(['serve', '--smtp-port', '70000']), /70000.*not a port/);
  });

  it('a port that is not a number', async () => {
    assertBadInput(await runCli(['serve', '--imap-port', 'abc']), /abc.*not a port/);
  });

  it('a bad --tls-engine', async () => {
    assertBadInput(await runCli(['serve', '--tls-engine', 'openssl']), /--tls-engine.*openssl/);
  });

  it('a --tls-min-version above --tls-max-version, and an unknown version', async () => {
    assertBadInput(
      await runCli([
        'serve',
        '--store',
        'memory',
        '--tls-min-version',
        'TLSv1.3',
        '--tls-max-version',
        'TLSv1.2',
        ...offAll,
      ]),
      /TLSv1\.3.*TLSv1\.2|min.*max/i,
    );
    assertBadInput(await runCli(['serve', '--tls-min-version', 'TLSv1.1']), /--tls-min-version.*TLSv1\.1/);
  });

  it('an unreadable certificate file', async () => {
    const dir = tempDir();
    assertBadInput(
      await runCli([
        'serve',
        '--store',
        'memory',
        '--cert',
        join(dir, 'missing.pem'),
        '--key',
        join(dir, 'missing.key'),
        ...offAll,
      ]),
      /--cert .*missing\.pem: cannot read \(ENOENT\)/,
    );
  });

  it('--cert without --key', async () => {
    assertBadInput(
      await runCli(['serve', '--store', 'memory', '--cert', '/etc/hostname', ...offAll]),
      /--cert and --key go together/,
    );
  });

  it('a key that does not match the certificate', async () => {
    const dir = tempDir();
    const a = await generateSelfSigned({ hostname: 'a.test' });
    const b = await generateSelfSigned({ hostname: 'b.test' });
    writeFileSync(join(dir, 'cert.pem'), a.certificateChainPem);
    writeFileSync(join(dir, 'key.pem'), b.privateKeyPem);
    assertBadInput(
      await runCli([
        'serve',
        '--store',
        'memory',
        '--cert',
        join(dir, 'cert.pem'),
        '--key',
        join(dir, 'key.pem'),
        ...offAll,
      ]),
      /does not match the certificate/,
    );
  });

  it('a certificate file that is not PEM', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'cert.pem'), 'not a certificate');
    writeFileSync(join(dir, 'key.pem'), 'not a key');
    assertBadInput(
      await runCli([
        'serve',
        '--store',
        'memory',
        '--cert',
        join(dir, 'cert.pem'),
        '--key',
        join(dir, 'key.pem'),
        ...offAll,
      ]),
      /certificate is not valid PEM/,
    );
  });

  describe('a port in use', () => {
    let blocker: Server;
    let port: number;
    before(async () => {
      blocker = createServer();
      await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
      port = (blocker.address() as { port: number }).port;
    });
    after(() => new Promise<void>((r) => blocker.close(() => r())));

    it('reports the listener and the port, and leaves nothing listening', async () => {
      const args = ['serve', '--store', 'memory', ...offAll, '--imaps-port', String(port)];
      const r = await runCli(args);
      assertBadInput(r, new RegExp(`cannot listen for imaps on 127\\.0\\.0\\.1:${port}: port in use`));
    });
  });

  it('a config file with an unknown setting', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'postern.yaml'), 'smtpPort: 2525\nfrobnicate: true\n');
    assertBadInput(
      await runCli(['serve', '--config', join(dir, 'postern.yaml')]),
      /must NOT have additional properties 'frobnicate'/,
    );
  });

  it('a config file with a bad value', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'postern.json'), JSON.stringify({ imapPort: 'many' }));
    assertBadInput(await runCli(['serve', '--config', join(dir, 'postern.json')]), /imapPort/);
  });

  it('a config file that does not parse', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'postern.json'), '{ "smtpPort": ');
    assertBadInput(await runCli(['serve', '--config', join(dir, 'postern.json')]), /not valid JSON/);
  });

  it('a missing config file', async () => {
    assertBadInput(
      await runCli(['serve', '--config', '/nonexistent/postern.yaml']),
      /cannot read config file/,
    );
  });

  it('user add without a password', async () => {
    assertBadInput(
      await runCli(['user', 'add', 'a@example.test', '--data-dir', tempDir()]),
      /password is required/,
    );
  });

  it('user add with a malformed address', async () => {
    assertBadInput(
      await runCli(['user', 'add', 'not-an-address', '--password', 'x', '--data-dir', tempDir()]),
      /not an email address/,
    );
  });
});
