import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { TLSSocket } from 'node:tls';
import { NativeTlsEngine, generateSelfSigned, type CertifiedKey } from '@postern/core';
import {
  SmtpClient,
  buildDsn,
  parseSmarthost,
  resolveTargets,
  nextAttempt,
  DEFAULT_RETRY_SCHEDULE,
} from '../src/relay/index.js';

/** Answers line by line; `tlsAfterStartTls` switches the socket to TLS after the 220. */
function lineServer(key: CertifiedKey, onStartTls: string, received: string[]): Promise<Server> {
  const server = createServer((raw: Socket) => {
    raw.on('error', () => undefined);
    let stream: Socket | TLSSocket = raw;
    let buf = '';
    const onLine = (line: string) => {
      received.push(line);
      const verb = line.slice(0, 8).toUpperCase();
      if (verb.startsWith('EHLO')) {
        stream.write(
          stream instanceof TLSSocket
            ? '250-real.example\r\n250 SIZE 12345\r\n'
            : '250-plain.example\r\n250 STARTTLS\r\n',
        );
      } else if (verb === 'STARTTLS') {
        raw.removeAllListeners('data');
        raw.write(onStartTls);
        stream = new TLSSocket(raw, {
          isServer: true,
          key: key.privateKeyPem,
          cert: key.certificateChainPem,
        });
        stream.on('data', onData);
        stream.on('error', () => undefined);
      } else if (verb.startsWith('QUIT')) stream.end('221 bye\r\n');
      else stream.write('250 ok\r\n');
    };
    const onData = (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf('\r\n'); nl !== -1; nl = buf.indexOf('\r\n')) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        onLine(line);
      }
    };
    raw.on('data', onData);
    raw.write('220 upstream ESMTP\r\n');
  });
  server.listen(0, '127.0.0.1');
  return once(server, 'listening').then(() => server);
}

describe('relay SMTP client', function () {
  let key: CertifiedKey;
  before(async () => {
    key = await generateSelfSigned({ hostname: 'localhost' });
  });

  it('drops a reply injected after the 220 to STARTTLS, before the handshake (CVE-2021-38371 class)', async () => {
    const received: string[] = [];
    const server = await lineServer(key, '220 2.0.0 go ahead\r\n250 evil.injected\r\n', received);
    try {
      const client = await SmtpClient.connect({
        host: '127.0.0.1',
        port: (server.address() as AddressInfo).port,
        heloName: 'gw.test',
        engine: new NativeTlsEngine(),
        tls: 'required',
        serverName: 'localhost',
        ca: key.certificateChainPem,
        replyTimeoutMs: 5000,
      });
      assert.equal(client.tls?.version, 'TLSv1.3');
      assert.equal(
        client.sizeLimit,
        12345,
        'the EHLO answer read after TLS is the real one, not the injected line',
      );
      await client.quit();
      assert.deepEqual(received, ['EHLO gw.test', 'STARTTLS', 'EHLO gw.test', 'QUIT']);
    } finally {
      server.close();
    }
  });

  it('parses smarthost specs and refuses bad ones', () => {
    assert.deepEqual(parseSmarthost('smtp.example.net:2525', 'u:p:w'), {
      host: 'smtp.example.net',
      port: 2525,
      auth: { user: 'u', password: 'p:w' },
    });
    assert.deepEqual(parseSmarthost('[::1]:25'), { host: '::1', port: 25, auth: undefined });
    assert.equal(parseSmarthost('relay.example').port, 587);
    assert.throws(() => parseSmarthost('host:99999'), /not a port/);
    assert.throws(() => parseSmarthost('host:25', 'nocolon'), /user:password/);
  });

  it('orders MX hosts by preference and falls back to the domain itself', async () => {
    const mx = await resolveTargets('a.test', async () => [
      { exchange: 'b.mx', priority: 20 },
      { exchange: 'a.mx', priority: 10 },
    ]);
    assert.deepEqual(
      mx.map((t) => t.host),
      ['a.mx', 'b.mx'],
    );
    const implicit = await resolveTargets('c.test', async () => {
      throw Object.assign(new Error('no data'), { code: 'ENODATA' });
    });
    assert.deepEqual(implicit, [{ host: 'c.test', port: 25 }]);
    await assert.rejects(
      resolveTargets('n.test', async () => [{ exchange: '', priority: 0 }]),
      /null MX/,
    );
  });

  it('backs off exponentially and gives up after the maximum age', () => {
    const created = new Date('2026-01-01T00:00:00Z');
    const first = nextAttempt(DEFAULT_RETRY_SCHEDULE, 1, created, created)!;
    const third = nextAttempt(DEFAULT_RETRY_SCHEDULE, 3, created, created)!;
    assert.ok(third.getTime() - created.getTime() > first.getTime() - created.getTime());
    const late = new Date(created.getTime() + 6 * 86_400_000);
    assert.equal(nextAttempt(DEFAULT_RETRY_SCHEDULE, 40, created, late), undefined);
  });

  it('writes an RFC 3464 report with one block per failed recipient', () => {
    const dsn = buildDsn({
      reportingMta: 'gw.test',
      to: 'alice@a.test',
      arrivalDate: new Date('2026-01-01T00:00:00Z'),
      recipients: [
        {
          address: 'x@b.test',
          status: '5.1.1',
          diagnostic: '550 5.1.1 no such user',
          remoteMta: 'mx.b.test',
        },
      ],
      originalHeaders: Buffer.from('Subject: hi\r\n\r\n'),
    }).toString();
    assert.match(dsn, /Content-Type: multipart\/report; report-type=delivery-status/);
    assert.match(dsn, /Reporting-MTA: dns; gw\.test/);
    assert.match(
      dsn,
      /Final-Recipient: rfc822; x@b\.test\r\nAction: failed\r\nStatus: 5\.1\.1\r\nRemote-MTA: dns; mx\.b\.test/,
    );
    assert.match(dsn, /Content-Type: text\/rfc822-headers\r\n\r\nSubject: hi/);
    assert.match(dsn, /Auto-Submitted: auto-replied/);
  });
});
