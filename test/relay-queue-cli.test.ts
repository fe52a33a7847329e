import assert from 'node:assert/strict';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { SMTPServer } from 'smtp-server';
import { generateSelfSigned, type CertifiedKey } from '@postern/core';
import { openStore } from '@postern/store';
import { runCli, startServe, tempDir } from './helpers.js';

const OFF = ['smtp', 'submission', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s', 'nntp', 'nntps'].flatMap(
  (l) => [`--${l}-port`, 'off'],
);

async function upstream(key: CertifiedKey) {
  const received: Array<{ to: string[]; tls: string | null; body: string }> = [];
  const tlsOf = new Map<string, string>();
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    key: key.privateKeyPem,
    cert: key.certificateChainPem,
    onSecure(socket, session, cb) {
      tlsOf.set(session.id, (socket as TLSSocket).getProtocol() ?? '');
      cb();
    },
    onData(stream, session, cb) {
      let body = '';
      stream.on('data', (d: Buffer) => (body += d));
      stream.on('end', () => {
        received.push({
          to: session.envelope.rcptTo.map((r) => r.address),
          tls: tlsOf.get(session.id) ?? null,
          body,
        });
        cb();
      });
    },
  });
  // A client refusing our certificate makes smtp-server emit 'error'; the test asserts on the queue.
  server.on('error', () => undefined);
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('outbound queue through postern serve and postern queue', function () {
  this.timeout(60_000);

  it('defers on a certificate for the wrong name, shows why, survives a restart, then delivers over TLS 1.3', async () => {
    const dir = tempDir();
    const dataDir = join(dir, 'data');
    const good = await generateSelfSigned({ hostname: 'localhost' });
    const wrong = await generateSelfSigned({ hostname: 'wrong.example' });
    writeFileSync(join(dir, 'good-ca.pem'), good.certificateChainPem);
    writeFileSync(join(dir, 'wrong-ca.pem'), wrong.certificateChainPem);

    const store = await openStore('fs', { dataDir });
    const id = await store.queue.enqueue(
      { from: 'alice@local.test', to: ['bob@remote.test'] },
      Buffer.from(
        'From: alice@local.test\r\nTo: bob@remote.test\r\nSubject: queued\r\n\r\nsurvives restarts\r\n',
      ),
    );
    await store.close();

    const bad = await upstream(wrong);
    const relayArgs = (port: number, ca: string) => [
      '--data-dir',
      dataDir,
      '--log-level',
      'silent',
      ...OFF,
      '--relay-host',
      `127.0.0.1:${port}`,
      '--relay-tls',
      'required',
      '--relay-servername',
      'localhost',
      '--relay-ca',
      ca,
    ];
    const first = await startServe(relayArgs(bad.port, join(dir, 'wrong-ca.pem')), dir);
    try {
      await until('the deferral', async () => {
        const r = await runCli(['queue', 'list', '--data-dir', dataDir]);
        return /error=/.test(r.stdout) ? r : undefined;
      });
    } finally {
      assert.equal(await first.stop(), 0);
      await bad.close();
    }
    const listed = await runCli(['queue', 'list', '--data-dir', dataDir]);
    assert.equal(listed.code, 0);
    assert.match(listed.stdout, new RegExp(`^${id}\\tqueued\\tattempts=1\\t`, 'm'));
    assert.match(listed.stdout, /to=bob@remote\.test/);
    assert.match(listed.stdout, /error=.*(certificate|altnames|TLS)/i);
    assert.equal(bad.received.length, 0);

    const ok = await upstream(good);
    const second = await startServe(relayArgs(ok.port, join(dir, 'good-ca.pem')), dir);
    try {
      const flushed = await runCli(['queue', 'flush', '--data-dir', dataDir]);
      assert.match(flushed.stdout, /^1 item\(s\) due now/);
      await until('the delivery', async () => (ok.received.length ? true : undefined));
      assert.equal(ok.received[0]!.tls, 'TLSv1.3');
      assert.deepEqual(ok.received[0]!.to, ['bob@remote.test']);
      assert.match(ok.received[0]!.body, /survives restarts/);
      const after = await until('the queue to empty', async () => {
        const r = await runCli(['queue', 'list', '--data-dir', dataDir]);
        return r.stdout.trim() === '' ? r : undefined;
      });
      assert.equal(after.code, 0);
    } finally {
      await second.stop();
      await ok.close();
    }
  });

  it('queue delete drops an item; deleting an unknown id is bad input', async () => {
    const dataDir = join(tempDir(), 'data');
    const store = await openStore('fs', { dataDir });
    const id = await store.queue.enqueue(
      { from: '', to: ['x@remote.test'] },
      Buffer.from('Subject: x\r\n\r\nx\r\n'),
    );
    await store.close();
    const del = await runCli(['queue', 'delete', id, '--data-dir', dataDir]);
    assert.equal(del.code, 0, del.stderr);
    assert.equal((await runCli(['queue', 'list', '--data-dir', dataDir])).stdout.trim(), '');
    const again = await runCli(['queue', 'delete', id, '--data-dir', dataDir]);
    assert.equal(again.code, 2);
    assert.match(again.stderr, /no queued item/);
  });
});
