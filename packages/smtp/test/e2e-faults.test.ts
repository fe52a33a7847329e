/**
 * Fault injection (issue 6): every SmtpFaults knob, observed by a real client (nodemailer) the
 * way a test author would use it to exercise their own error paths.
 */
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import {
  ALICE,
  ALICE_PW,
  BOB,
  inbox,
  message,
  RawClient,
  startHarness,
  type Harness,
  type HarnessOptions,
} from './e2e-harness.js';

const RAW = message(
  {
    From: ALICE,
    To: BOB,
    Subject: 'fault',
    'Message-ID': '<f@example.org>',
    Date: 'Mon, 23 Nov 2026 08:00:00 +0000',
  },
  'body\r\n',
);

const BIG = message(
  { From: ALICE, To: BOB, Subject: 'big', 'Message-ID': '<b@x>', Date: 'Mon, 23 Nov 2026 08:00:00 +0000' },
  'x'.repeat(76).concat('\r\n').repeat(256),
);

interface SendError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

function transport(h: Harness, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: h.port,
    secure: false,
    requireTLS: true,
    tls: { ca: h.ca, servername: 'localhost' },
    auth: { user: ALICE, pass: ALICE_PW },
    ...extra,
  } as never);
}

async function sendFails(h: Harness, extra: Record<string, unknown> = {}): Promise<SendError> {
  try {
    await transport(h, extra).sendMail({ envelope: { from: ALICE, to: [BOB] }, raw: RAW });
  } catch (err) {
    return err as SendError;
  }
  throw new Error('sendMail succeeded although a fault was injected');
}

describe('smtp server: fault injection seen by nodemailer', function () {
  this.timeout(30_000);
  let h: Harness;
  async function start(options: HarnessOptions): Promise<void> {
    h = await startHarness({ role: 'submission', relay: 'queue', ...options });
  }
  afterEach(async () => {
    await h?.close();
  });

  it('sends normally without faults (the baseline the other cases differ from)', async () => {
    await start({});
    const info = await transport(h).sendMail({ envelope: { from: ALICE, to: [BOB] }, raw: RAW });
    assert.deepEqual(info.accepted, [BOB]);
    assert.equal((await inbox(h.store, BOB)).length, 1);
  });

  for (const [command, code, enhanced, nodemailerCommand] of [
    ['MAIL', 451, '4.3.0', 'MAIL FROM'],
    ['RCPT', 550, '5.1.1', 'RCPT TO'],
    ['DATA', 554, '5.6.0', 'DATA'],
  ] as const) {
    it(`replaces the reply to ${command} with an injected ${code} ${enhanced}`, async () => {
      await start({
        faults: { replies: [{ command, code, enhanced, text: `injected ${command} failure` }] },
      });
      const err = await sendFails(h);
      assert.equal(err.responseCode, code, err.message);
      assert.match(
        err.response ?? '',
        new RegExp(`^${code} ${enhanced.replace(/\./g, '\\.')} injected ${command} failure`),
      );
      assert.match(err.command ?? '', new RegExp(nodemailerCommand.split(' ')[0]!));
      assert.equal((await inbox(h.store, BOB)).length, 0, 'nothing delivered');
    });
  }

  it('replaces the greeting: 554 waits for QUIT and refuses the rest with 503 (RFC 5321 §3.1)', async () => {
    await start({
      faults: { replies: [{ command: 'GREETING', code: 554, enhanced: '5.3.2', text: 'no service' }] },
    });
    const err = await sendFails(h);
    assert.equal(err.responseCode, 554, err.message);
    const c = await RawClient.connect(h.port);
    const greeting = await c.reply();
    assert.equal(greeting.code, 554);
    assert.equal((await c.command('EHLO client.example.net')).code, 503);
    assert.equal((await c.command('QUIT')).code, 221);
    await c.closed();
  });

  it('replaces the greeting with 421 and closes', async () => {
    await start({
      faults: { replies: [{ command: 'GREETING', code: 421, enhanced: '4.3.2', text: 'go away' }] },
    });
    const err = await sendFails(h);
    assert.equal(err.responseCode, 421, err.message);
    const c = await RawClient.connect(h.port);
    assert.equal((await c.reply()).code, 421);
    await c.closed();
  });

  it('replaces the reply after the message (END-OF-DATA) and drops the message', async () => {
    await start({
      faults: { replies: [{ command: 'END-OF-DATA', code: 452, enhanced: '4.3.1', text: 'out of space' }] },
    });
    const err = await sendFails(h);
    assert.equal(err.responseCode, 452, err.message);
    assert.match(err.response ?? '', /^452 4\.3\.1 out of space/);
    assert.equal((await inbox(h.store, BOB)).length, 0);
    // The same after BDAT LAST, and the session goes on.
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    await c.auth(ALICE, ALICE_PW);
    await c.command(`MAIL FROM:<${ALICE}>`);
    await c.command(`RCPT TO:<${BOB}>`);
    c.write(Buffer.concat([Buffer.from(`BDAT ${RAW.length} LAST\r\n`), RAW]));
    assert.equal((await c.reply()).code, 452);
    assert.equal((await c.command('NOOP')).code, 250);
    assert.equal((await inbox(h.store, BOB)).length, 0);
  });

  it('consumes the chunk of an injected BDAT reply, so its octets never run as commands', async () => {
    await start({
      faults: { replies: [{ command: 'BDAT', code: 451, enhanced: '4.3.0', text: 'chunk refused' }] },
    });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    await c.auth(ALICE, ALICE_PW);
    await c.command(`MAIL FROM:<${ALICE}>`);
    await c.command(`RCPT TO:<${BOB}>`);
    const chunk = 'QUIT\r\n';
    c.write(`BDAT ${chunk.length} LAST\r\n${chunk}`);
    assert.equal((await c.reply()).code, 451);
    assert.equal((await c.command('NOOP')).code, 250, 'the QUIT inside the chunk was not executed');
  });

  it('injects a reply to EHLO: the client falls back to HELO (no extensions, so no STARTTLS)', async () => {
    await start({
      faults: { replies: [{ command: 'EHLO', code: 502, enhanced: '5.5.1', text: 'no EHLO here' }] },
    });
    const err = await sendFails(h);
    // requireTLS cannot be met once HELO is all there is.
    assert.match(`${err.code} ${err.message}`, /TLS|STARTTLS/i);
    const info = await transport(h, { requireTLS: false, ignoreTLS: true, auth: undefined })
      .sendMail({ envelope: { from: 'x@remote.example', to: [BOB] }, raw: RAW })
      .catch((e: SendError) => e);
    // Submission without AUTH is refused at MAIL, which proves the session went on after HELO.
    assert.equal((info as SendError).responseCode, 530);
  });

  it('answers STARTTLS with 454 4.7.0 when refuseStartTls is set, and the session goes on', async () => {
    await start({ faults: { refuseStartTls: true } });
    const err = await sendFails(h);
    assert.match(`${err.code} ${err.response ?? err.message}`, /454|TLS/);
    const c = await RawClient.connect(h.port);
    await c.reply();
    const ehlo = await c.command('EHLO client.example.net');
    assert.ok(ehlo.lines.includes('STARTTLS'), 'still advertised');
    const r = await c.command('STARTTLS');
    assert.equal(r.code, 454);
    assert.match(r.lines[0]!, /^4\.7\.0 /);
    assert.equal((await c.command('NOOP')).code, 250);
    assert.equal((await c.command('QUIT')).code, 221);
  });

  it('says 220 to STARTTLS and then breaks the handshake when failHandshake is set', async () => {
    await start({ faults: { failHandshake: true } });
    const err = await sendFails(h);
    assert.ok(['ETLS', 'ESOCKET', 'ECONNECTION'].includes(err.code ?? ''), `${err.code}: ${err.message}`);
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.command('EHLO client.example.net');
    assert.equal((await c.command('STARTTLS')).code, 220);
    await assert.rejects(c.upgrade(h.ca));
    c.destroy();
    assert.equal((await inbox(h.store, BOB)).length, 0);
  });

  it('delays every reply by delayMs: a client with a shorter greeting timeout gives up, a patient one succeeds', async () => {
    await start({ faults: { delayMs: 1500 } });
    const impatient = await sendFails(h, { greetingTimeout: 100 });
    assert.equal(impatient.code, 'ETIMEDOUT', impatient.message);
    const c = await RawClient.connect(h.port);
    assert.equal((await c.reply()).code, 220);
    c.destroy();
    await h.close();
    await start({ faults: { delayMs: 20 } });
    const info = await transport(h).sendMail({ envelope: { from: ALICE, to: [BOB] }, raw: RAW });
    assert.deepEqual(info.accepted, [BOB]);
  });

  it('drops a plaintext connection after dropAfterBytes octets received', async () => {
    await start({ role: 'mx', faults: { dropAfterBytes: 3000 } });
    const err = await transport(h, { requireTLS: false, ignoreTLS: true, auth: undefined })
      .sendMail({ envelope: { from: 'x@remote.example', to: [BOB] }, raw: BIG })
      .then(
        () => undefined,
        (e: SendError) => e,
      );
    assert.ok(err, 'the send must fail');
    assert.ok(['ECONNECTION', 'ESOCKET'].includes(err.code ?? ''), `${err.code}: ${err.message}`);
    await h.settled();
    assert.equal((await inbox(h.store, BOB)).length, 0, 'a dropped message is not delivered');
    // Below the threshold everything works.
    const c = await RawClient.connect(h.port);
    await c.reply();
    assert.equal((await c.command('EHLO client.example.net')).code, 250);
    assert.equal((await c.command('NOOP')).code, 250);
    c.write(`NOOP ${'y'.repeat(900)}\r\n`.repeat(4));
    await c.closed();
  });

  it('counts dropAfterBytes across STARTTLS too (octets received on the wire)', async () => {
    // Far enough to get past EHLO/STARTTLS/AUTH, not through a 20 kB message.
    await start({ faults: { dropAfterBytes: 6000 } });
    const err = await transport(h)
      .sendMail({ envelope: { from: ALICE, to: [BOB] }, raw: BIG })
      .then(
        () => undefined,
        (e: SendError) => e,
      );
    assert.ok(err, 'the send must fail');
    assert.ok(['ECONNECTION', 'ESOCKET'].includes(err.code ?? ''), `${err.code}: ${err.message}`);
    await h.settled();
    assert.equal((await inbox(h.store, BOB)).length, 0, 'a dropped message is not delivered');
  });
});
