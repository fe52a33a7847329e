/**
 * The same sessions over Postern's own TLS engine (TsTlsEngine, DESIGN.md "The TLS engine"):
 * STARTTLS and implicit TLS with real clients, the Received header naming what was negotiated,
 * and the STARTTLS injection guard holding with this engine too.
 */
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { TsTlsEngine } from '@postern/core';
import {
  ALICE,
  ALICE_PW,
  BOB,
  addedPrefix,
  inbox,
  message,
  RawClient,
  startHarness,
  type Harness,
} from './e2e-harness.js';

const RAW = message(
  {
    From: ALICE,
    To: BOB,
    Subject: 'own engine',
    'Message-ID': '<ts@example.org>',
    Date: 'Mon, 23 Nov 2026 08:00:00 +0000',
  },
  'sent over TsTlsEngine\r\n',
);

describe('smtp server over TsTlsEngine', function () {
  this.timeout(30_000);
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ role: 'submission', relay: 'queue', engine: new TsTlsEngine() });
  });
  afterEach(async () => h.close());

  it('nodemailer: STARTTLS + AUTH PLAIN, message stored byte for byte with the TLS facts', async () => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: h.port,
      secure: false,
      requireTLS: true,
      tls: { ca: h.ca, servername: 'localhost' },
      auth: { user: ALICE, pass: ALICE_PW },
    });
    await t.sendMail({ envelope: { from: ALICE, to: [BOB] }, raw: RAW });
    const [stored] = await inbox(h.store, BOB);
    const prefix = addedPrefix(stored!, RAW);
    assert.match(prefix, /TLSv1\.[23]/);
    assert.match(prefix, /with ESMTPSA/);
  });

  it('nodemailer: implicit TLS (smtps)', async () => {
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: h.tlsPort,
      secure: true,
      tls: { ca: h.ca, servername: 'localhost' },
      auth: { user: ALICE, pass: ALICE_PW },
    });
    await t.sendMail({ envelope: { from: ALICE, to: [BOB] }, raw: RAW });
    assert.equal((await inbox(h.store, BOB)).length, 1);
  });

  it('drops commands pipelined behind STARTTLS with this engine too', async () => {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.command('EHLO client.example.net');
    c.write(
      `STARTTLS\r\nAUTH PLAIN ${Buffer.from(`\0${ALICE}\0${ALICE_PW}`).toString('base64')}\r\nMAIL FROM:<${ALICE}>\r\n`,
    );
    assert.equal((await c.reply()).code, 220);
    assert.equal(c.pending, '');
    await c.upgrade(h.ca);
    await c.command('EHLO client.example.net');
    const mail = await c.command(`MAIL FROM:<${ALICE}>`);
    assert.equal(mail.code, 530, `the injected AUTH must not count: ${mail.raw}`);
  });
});
