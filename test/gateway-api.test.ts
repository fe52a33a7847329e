import assert from 'node:assert/strict';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { startGateway, type Gateway } from '@postern/server';

const USER = { address: 'alice@example.test', password: 'correct horse battery' };

function transport(gw: Gateway, port: number, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    tls: { ca: gw.certificatePem, servername: 'localhost' },
    auth: { user: USER.address, pass: USER.password },
    ...extra,
  } as never);
}

describe('startGateway: Postern inside other people’s tests', function () {
  let gw: Gateway;
  before(async () => {
    gw = await startGateway({ store: 'memory', domains: ['example.test'], users: [USER], relay: 'capture' });
  });
  after(() => gw.close());
  afterEach(() => gw.reset());

  it('listens on free loopback ports and hands out its certificate', () => {
    for (const name of [
      'smtp',
      'submission',
      'smtps',
      'imap',
      'imaps',
      'pop3',
      'pop3s',
      'nntp',
      'nntps',
    ] as const) {
      assert.ok((gw.ports[name] ?? 0) > 0, name);
    }
    assert.match(gw.certificatePem, /BEGIN CERTIFICATE/);
  });

  it('nodemailer sends through submission with STARTTLS, waitForMessage sees it, imapflow reads it', async () => {
    const info = await transport(gw, gw.ports.submission!).sendMail({
      from: USER.address,
      to: USER.address,
      subject: 'hello from the test',
      text: 'first line\n.second line starts with a dot\n',
    });
    assert.equal(info.accepted.length, 1);
    const seen = await gw.waitForMessage(
      { to: USER.address, subject: 'hello from the test' },
      { timeoutMs: 5000 },
    );
    assert.equal(seen.kind, 'delivered');
    assert.match(seen.text, /\.second line starts with a dot/);

    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: gw.ports.imap!,
      secure: false,
      doSTARTTLS: true,
      tls: { ca: gw.certificatePem, servername: 'localhost' },
      auth: { user: USER.address, pass: USER.password },
      logger: false,
    } as never);
    await imap.connect();
    try {
      const lock = await imap.getMailboxLock('INBOX');
      try {
        const msg = await imap.fetchOne('*', { envelope: true, source: true });
        assert.ok(msg);
        assert.equal(msg.envelope?.subject, 'hello from the test');
        assert.ok(
          msg.source?.includes(Buffer.from('..second line')) === false,
          'no dot-stuffing left in the stored message',
        );
        assert.ok(msg.source?.includes(Buffer.from('\r\n.second line starts with a dot')));
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout();
    }
  });

  it('capture mode keeps mail for other domains, parsed, instead of sending it', async () => {
    await transport(gw, gw.ports.submission!).sendMail({
      from: USER.address,
      to: 'someone@elsewhere.example',
      subject: 'to the world',
      text: 'never leaves the machine',
      attachments: [{ filename: 'note.txt', content: 'attached text' }],
    });
    const mail = await gw.waitForMessage({ to: 'someone@elsewhere.example' });
    assert.equal(mail.kind, 'captured');
    assert.deepEqual(mail.envelope, { from: USER.address, to: ['someone@elsewhere.example'] });
    assert.equal(mail.subject, 'to the world');
    assert.match(mail.text, /never leaves the machine/);
    assert.equal(mail.attachments.length, 1);
    assert.equal(mail.attachments[0].filename, 'note.txt');
    assert.equal(mail.attachments[0].content.toString(), 'attached text');
    assert.equal((await gw.captured({ to: 'someone@elsewhere.example' })).length, 1);
    assert.equal(
      (await gw.messages({ to: 'someone@elsewhere.example' })).length,
      0,
      'nothing delivered locally',
    );
  });

  it('capture mode accepts mail for other domains on the MX port without authentication', async () => {
    const mx = nodemailer.createTransport({
      host: '127.0.0.1',
      port: gw.ports.smtp!,
      secure: false,
      tls: { ca: gw.certificatePem, servername: 'localhost' },
    } as never);
    await mx.sendMail({
      from: 'app@service.example',
      to: 'customer@elsewhere.example',
      subject: 'receipt',
      text: 'thanks',
    });
    const mail = await gw.waitForMessage({ subject: 'receipt' });
    assert.equal(mail.kind, 'captured');
  });

  it('reset() forgets captured and delivered mail', async () => {
    await transport(gw, gw.ports.submission!).sendMail({
      from: USER.address,
      to: [USER.address, 'x@elsewhere.example'],
      subject: 'r',
      text: 'r',
    });
    await gw.waitForMessage({ to: USER.address, subject: 'r' });
    await gw.waitForMessage({ to: 'x@elsewhere.example', subject: 'r' });
    await gw.reset();
    assert.deepEqual(await gw.messages(), []);
    assert.deepEqual(await gw.captured(), []);
  });

  it('waitForMessage rejects with a clear error when nothing matching arrives in time', async () => {
    await assert.rejects(
      gw.waitForMessage({ subject: 'never sent' }, { timeoutMs: 100 }),
      /no message matching .*never sent.* within 100 ms/,
    );
  });
});

describe('startGateway: TLS versions', function () {
  for (const engine of ['ts', 'native'] as const) {
    it(`tls.maxVersion TLSv1.2 and tls.minVersion TLSv1.3 hold on every implicit-TLS listener (${engine} engine)`, async () => {
      const { connect } = await import('node:tls');
      const handshake = (port: number, ca: string, maxVersion?: 'TLSv1.2') =>
        new Promise<string>((resolve, reject) => {
          const s = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', maxVersion }, () => {
            const v = s.getProtocol() ?? '';
            s.destroy();
            resolve(v);
          });
          s.on('error', reject);
        });
      const only12 = await startGateway({ store: 'memory', tls: { engine, maxVersion: 'TLSv1.2' } });
      try {
        for (const name of ['smtps', 'imaps', 'pop3s', 'nntps'] as const)
          assert.equal(await handshake(only12.ports[name]!, only12.certificatePem), 'TLSv1.2', name);
      } finally {
        await only12.close();
      }
      const only13 = await startGateway({ store: 'memory', tls: { engine, minVersion: 'TLSv1.3' } });
      try {
        assert.equal(await handshake(only13.ports.imaps!, only13.certificatePem), 'TLSv1.3');
        await assert.rejects(
          handshake(only13.ports.imaps!, only13.certificatePem, 'TLSv1.2'),
          /protocol version|alert/i,
        );
      } finally {
        await only13.close();
      }
    });
  }
});
