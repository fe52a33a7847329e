import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { availableProtocols } from '@postern/server';
import { startServe, tempDir } from './helpers.js';

const PROTOCOL_OF: Record<string, string> = {
  smtp: 'smtp',
  submission: 'smtp',
  smtps: 'smtp',
  imap: 'imap',
  imaps: 'imap',
  pop3: 'pop3',
  pop3s: 'pop3',
  nntp: 'nntp',
  nntps: 'nntp',
};
const built = new Set<string>(availableProtocols());
/** Listeners whose protocol is plugged in (all nine once every protocol issue has landed). */
const expected = (names: string[]) => names.filter((n) => built.has(PROTOCOL_OF[n]!));
const GREETING: Record<string, RegExp> = { smtp: /^220 /, imap: /^\* OK /, pop3: /^\+OK/, nntp: /^20[01] / };

const ALL_ZERO = ['smtp', 'submission', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s', 'nntp', 'nntps'].flatMap(
  (l) => [`--${l}-port`, '0'],
);

/** First line a server sends on a plain TCP connection. */
function greeting(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1');
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl !== -1) {
        s.destroy();
        resolve(buf.slice(0, nl).trim());
      }
    });
    s.on('error', reject);
  });
}

describe('postern serve', function () {
  it('starts every listener, says how each is secured, and exits 0 on SIGTERM', async () => {
    const srv = await startServe(['--store', 'memory', '--log-level', 'silent', ...ALL_ZERO]);
    try {
      const listening = srv.lines.filter((l) => l.startsWith('listening '));
      const all = ['smtp', 'submission', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s', 'nntp', 'nntps'];
      assert.equal(listening.length, expected(all).length);
      for (const name of expected(['smtp', 'submission', 'imap', 'pop3', 'nntp'])) {
        assert.ok(
          listening.some((l) => l.startsWith(`listening ${name} 127.0.0.1:`) && l.endsWith('(starttls)')),
          name,
        );
      }
      for (const name of expected(['smtps', 'imaps', 'pop3s', 'nntps'])) {
        assert.ok(
          listening.some((l) => l.startsWith(`listening ${name} 127.0.0.1:`) && l.endsWith('(implicit tls)')),
          name,
        );
      }
      for (const name of expected(['smtp', 'imap', 'pop3', 'nntp'])) {
        assert.match(await greeting(srv.ports[name]!), GREETING[name]!, name);
      }
    } finally {
      assert.equal(await srv.stop('SIGTERM'), 0);
    }
  });

  it('exits 0 on SIGINT too', async () => {
    const srv = await startServe(['--store', 'memory', '--log-level', 'silent', ...ALL_ZERO]);
    assert.equal(await srv.stop('SIGINT'), 0);
  });

  it('leaves a listener off when its port is "off"', async () => {
    const args = [
      '--store',
      'memory',
      '--log-level',
      'silent',
      ...ALL_ZERO,
      '--nntp-port',
      'off',
      '--nntps-port',
      'off',
    ];
    const srv = await startServe(args);
    try {
      assert.equal(srv.ports.nntp, undefined);
      assert.equal(srv.ports.nntps, undefined);
    } finally {
      await srv.stop();
    }
  });

  it('generates a self-signed certificate into the data dir on first start and reuses it', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const args = [
      '--data-dir',
      dataDir,
      '--hostname',
      'mail.example.test',
      '--log-level',
      'silent',
      ...ALL_ZERO,
    ];
    const first = await startServe(args, dir);
    await first.stop();
    const certPath = join(dataDir, 'tls', 'mail.example.test.cert.pem');
    const pem = readFileSync(certPath, 'utf8');
    assert.match(pem, /BEGIN CERTIFICATE/);
    const second = await startServe(args, dir);
    await second.stop();
    assert.equal(readFileSync(certPath, 'utf8'), pem, 'the certificate is reused, not regenerated');
    assert.ok(readdirSync(join(dataDir, 'tls')).some((f) => f.endsWith('.key.pem')));
  });

  it('reads its settings from a YAML config file, with flags taking precedence', async () => {
    const dir = tempDir();
    const { writeFileSync } = await import('node:fs');
    const cfg = join(dir, 'postern.yaml');
    writeFileSync(
      cfg,
      ['store: memory', 'logLevel: silent', 'nntpPort: "off"', 'nntpsPort: "off"', 'pop3Port: "off"'].join(
        '\n',
      ) + '\n',
    );
    const srv = await startServe(['--config', cfg, ...ALL_ZERO.slice(0, 10), '--pop3s-port', '0'], dir);
    try {
      assert.equal(srv.ports.nntp, undefined);
      assert.equal(srv.ports.pop3, undefined, 'pop3 off from the file (no flag for it)');
      if (built.has('pop3')) assert.ok(srv.ports.pop3s !== undefined);
    } finally {
      await srv.stop();
    }
  });
});
