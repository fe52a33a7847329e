import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { startGateway, type Gateway, type SmtpFaults } from '@postern/server';

const USER = { address: 'bob@example.test', password: 'pw-for-bob' };

async function withFaults(
  listener: 'smtp' | 'submission' | 'smtps',
  faults: SmtpFaults,
  fn: (gw: Gateway) => Promise<void>,
) {
  const gw = await startGateway({
    store: 'memory',
    domains: ['example.test'],
    users: [USER],
    faults: { [listener]: faults },
  });
  try {
    await fn(gw);
  } finally {
    await gw.close();
  }
}

function send(gw: Gateway, port: number, opts: Record<string, unknown> = {}) {
  return nodemailer
    .createTransport({
      host: '127.0.0.1',
      port,
      secure: false,
      requireTLS: true,
      tls: { ca: gw.certificatePem, servername: 'localhost' },
      auth: { user: USER.address, pass: USER.password },
      ...opts,
    } as never)
    .sendMail({ from: USER.address, to: USER.address, subject: 'fault test', text: 'x'.repeat(2000) });
}

describe('fault injection, observed by a real client (nodemailer)', function () {
  it('replies with a given SMTP code to a given command', async () => {
    await withFaults(
      'submission',
      { replies: [{ command: 'RCPT', code: 452, enhanced: '4.2.2', text: 'mailbox full (injected)' }] },
      async (gw) => {
        const err = (await send(gw, gw.ports.submission!).then(
          () => assert.fail('the injected reply must reach the client'),
          (e: unknown) => e,
        )) as { responseCode?: number; response?: string };
        assert.equal(err.responseCode, 452);
        assert.match(err.response ?? '', /4\.2\.2 mailbox full \(injected\)/);
        assert.equal((await gw.messages()).length, 0);
      },
    );
  });

  it('refuses STARTTLS', async () => {
    await withFaults('submission', { refuseStartTls: true }, async (gw) => {
      await assert.rejects(send(gw, gw.ports.submission!), (e: { response?: string; code?: string }) => {
        assert.match(String(e.response ?? e.code), /454|STARTTLS|ETLS/);
        return true;
      });
    });
  });

  it('offers STARTTLS but fails the handshake', async () => {
    await withFaults('submission', { failHandshake: true }, async (gw) => {
      await assert.rejects(send(gw, gw.ports.submission!), (e: { code?: string; message?: string }) => {
        assert.match(`${e.code} ${e.message}`, /ETLS|ESOCKET|ECONNECTION|closed|socket|TLS/i);
        return true;
      });
    });
  });

  it('delays replies', async () => {
    await withFaults('submission', { delayMs: 1500 }, async (gw) => {
      await assert.rejects(
        send(gw, gw.ports.submission!, { greetingTimeout: 300 }),
        (e: { code?: string; message?: string }) => {
          assert.match(`${e.code} ${e.message}`, /ETIMEDOUT|Greeting never received/i);
          return true;
        },
      );
    });
  });

  it('drops the connection after N bytes', async () => {
    await withFaults('submission', { dropAfterBytes: 64 }, async (gw) => {
      await assert.rejects(send(gw, gw.ports.submission!), (e: { code?: string; message?: string }) => {
        assert.match(`${e.code} ${e.message}`, /ECONNECTION|ESOCKET|closed|ECONNRESET/i);
        return true;
      });
      assert.equal((await gw.messages()).length, 0);
    });
  });

  it('leaves the other listeners alone', async () => {
    await withFaults('smtp', { refuseStartTls: true }, async (gw) => {
      await send(gw, gw.ports.submission!);
      await gw.waitForMessage({ subject: 'fault test' });
    });
  });
});
