/**
 * Capture mode (issue 6): a submission listener with relay 'capture' hands mail for other
 * domains to the capture hook instead of the queue; local recipients are still delivered; the
 * MX never relays, capture or not.
 */
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
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
    To: 'dave@remote.example, bob@example.org',
    Subject: 'captured',
    'Message-ID': '<c@example.org>',
    Date: 'Mon, 23 Nov 2026 08:00:00 +0000',
  },
  'to be captured\r\n.a dot line\r\n',
);

describe('smtp server: capture mode', function () {
  this.timeout(30_000);
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  it('gives remote recipients to capture (not the queue) and delivers local ones', async () => {
    h = await startHarness({ role: 'submission', relay: 'capture' });
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: h.port,
      secure: false,
      requireTLS: true,
      tls: { ca: h.ca, servername: 'localhost' },
      auth: { user: ALICE, pass: ALICE_PW },
    });
    const info = await t.sendMail({
      envelope: { from: ALICE, to: ['dave@remote.example', BOB, 'erin@other.example'] },
      raw: RAW,
    });
    assert.deepEqual([...info.accepted].sort(), [BOB, 'dave@remote.example', 'erin@other.example']);
    assert.equal(h.captured.length, 1, 'one captured mail for the transaction');
    const [mail] = h.captured;
    assert.equal(mail!.envelope.from, ALICE);
    assert.deepEqual(mail!.envelope.to, ['dave@remote.example', 'erin@other.example']);
    const prefix = addedPrefix(mail!.message, RAW);
    assert.match(prefix, /^Received: /m);
    assert.doesNotMatch(prefix, /^Return-Path:/m);
    assert.deepEqual(await h.store.queue.list(), [], 'nothing queued in capture mode');
    const [local] = await inbox(h.store, BOB);
    addedPrefix(local!, RAW);
  });

  it('captures over implicit TLS (smtps) as well', async () => {
    h = await startHarness({ role: 'submission', relay: 'capture' });
    const t = nodemailer.createTransport({
      host: '127.0.0.1',
      port: h.tlsPort,
      secure: true,
      tls: { ca: h.ca, servername: 'localhost' },
      auth: { user: ALICE, pass: ALICE_PW },
    });
    await t.sendMail({ envelope: { from: ALICE, to: ['dave@remote.example'] }, raw: RAW });
    assert.equal(h.captured.length, 1);
    assert.deepEqual(h.captured[0]!.envelope.to, ['dave@remote.example']);
  });

  it('answers 451 and keeps nothing when the capture hook fails, and the session goes on', async () => {
    let calls = 0;
    h = await startHarness({
      role: 'submission',
      relay: 'capture',
      capture: async () => {
        calls++;
        throw new Error('capture sink unavailable');
      },
    });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    await c.auth(ALICE, ALICE_PW);
    await c.command(`MAIL FROM:<${ALICE}>`);
    await c.command('RCPT TO:<dave@remote.example>');
    await c.command('DATA');
    const r = await c.command(`${RAW.toString('utf8')}.`);
    assert.equal(r.code, 451, r.raw);
    assert.equal(calls, 1);
    assert.equal((await c.command('NOOP')).code, 250);
  });

  it('on the MX in capture mode, keeps mail for other domains from anyone and relays none of it', async () => {
    h = await startHarness({ role: 'mx', relay: 'capture' });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    await c.command('MAIL FROM:<app-under-test@remote.example>');
    assert.equal((await c.command('RCPT TO:<dave@remote.example>')).code, 250);
    assert.equal((await c.command('RCPT TO:<bob@example.org>')).code, 250);
    await c.command('DATA');
    assert.equal((await c.command(`${RAW.toString('utf8')}.`)).code, 250);
    assert.equal(h.captured.length, 1);
    assert.deepEqual(h.captured[0]!.envelope.to, ['dave@remote.example']);
    assert.equal((await inbox(h.store, BOB)).length, 1);
    assert.equal((await h.store.queue.list()).length, 0, 'nothing is queued for relay');
  });

  it('without capture, the MX refuses to relay for strangers', async () => {
    h = await startHarness({ role: 'mx', relay: 'queue' });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    await c.command('MAIL FROM:<mallory@remote.example>');
    const r = await c.command('RCPT TO:<dave@remote.example>');
    assert.equal(r.code, 550);
    assert.match(r.lines[0]!, /^5\.7\.1 /);
  });
});
