/**
 * The submission role (RFC 6409) byte for byte: AUTH before MAIL, AUTH only under TLS,
 * sender ownership, Message-ID/Date added, relaying to the queue with DSN parameters
 * (RFC 3461), implicit TLS (RFC 8314).
 */
import assert from 'node:assert/strict';
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

const HELLO = message(
  {
    From: BOB,
    To: ALICE,
    Subject: 'hi',
    'Message-ID': '<1@example.org>',
    Date: 'Mon, 23 Nov 2026 08:00:00 +0000',
  },
  'Hello.\r\n',
);

function enhanced(line: string | undefined): string {
  return /^(\d\.\d{1,3}\.\d{1,3}) /.exec(line ?? '')?.[1] ?? '';
}

describe('smtp server: submission protocol (raw client)', function () {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  beforeEach(async () => {
    h = await startHarness({ role: 'submission', relay: 'queue' });
  });

  it('requires AUTH before MAIL (530 5.7.0) and offers AUTH only under TLS', async () => {
    const c = await RawClient.connect(h.port);
    await c.reply();
    const plain = await c.command('EHLO client.example.net');
    assert.ok(!plain.lines.some((l) => /^AUTH/i.test(l)));
    const mail = await c.command('MAIL FROM:<alice@example.org>');
    assert.equal(mail.code, 530);
    assert.equal(enhanced(mail.lines[0]), '5.7.0');
    await c.command('STARTTLS');
    await c.upgrade(h.ca);
    const tls = await c.command('EHLO client.example.net');
    const auth = tls.lines.find((l) => /^AUTH /i.test(l));
    assert.ok(auth && /PLAIN/.test(auth) && /LOGIN/.test(auth), tls.raw);
    assert.equal((await c.command('MAIL FROM:<alice@example.org>')).code, 530);
  });

  it('authenticates with PLAIN and LOGIN, refuses bad passwords with 535 5.7.8', async () => {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    const bad = await c.auth(ALICE, 'wrong');
    assert.equal(bad.code, 535);
    assert.equal(enhanced(bad.lines[0]), '5.7.8');
    assert.equal((await c.command('AUTH LOGIN')).code, 334);
    assert.equal((await c.command(Buffer.from(ALICE).toString('base64'))).code, 334);
    const ok = await c.command(Buffer.from(ALICE_PW).toString('base64'));
    assert.equal(ok.code, 235, ok.raw);
    assert.equal((await c.auth(ALICE, ALICE_PW)).code, 503, 'AUTH twice');
  });

  it('answers an over-long AUTH continuation with 500 and goes on', async () => {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    assert.equal((await c.command('AUTH LOGIN')).code, 334);
    const r = await c.command('A'.repeat(20_000));
    assert.equal(r.code, 500, r.raw);
    assert.equal((await c.auth(ALICE, ALICE_PW)).code, 235);
  });

  it('relays for an authenticated user to the queue, adds Message-ID and Date when missing', async () => {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    await c.auth(ALICE, ALICE_PW);
    const bare = message(
      { From: ALICE, To: 'dave@remote.example, bob@example.org', Subject: 'bare' },
      'no id, no date\r\n',
    );
    await c.command('MAIL FROM:<alice@example.org>');
    assert.equal((await c.command('RCPT TO:<dave@remote.example>')).code, 250);
    assert.equal((await c.command('RCPT TO:<bob@example.org>')).code, 250);
    await c.command('DATA');
    assert.equal((await c.command(`${bare.toString('utf8')}.`)).code, 250);
    const [stored] = await inbox(h.store, BOB);
    const prefix = addedPrefix(stored!, bare);
    assert.match(prefix, /^Message-ID: <[^>]+@[^>]+>\r\n/m);
    assert.match(prefix, /^Date: \w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d [+-]\d{4}\r\n/m);
    assert.match(prefix, /with ESMTPSA/);
    const [item] = await h.store.queue.list();
    assert.deepEqual(item!.envelope.to, ['dave@remote.example']);
    const chunks: Buffer[] = [];
    for await (const x of await h.store.queue.openMessage(item!.id)) chunks.push(x as Buffer);
    const queued = Buffer.concat(chunks);
    const qprefix = addedPrefix(queued, bare);
    assert.match(qprefix, /^Message-ID:/m);
    assert.doesNotMatch(qprefix, /^Return-Path:/m, 'Return-Path is for the final delivery only');
  });

  it('checks that MAIL FROM belongs to the user (553 5.7.1) when configured', async () => {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    await c.auth(ALICE, ALICE_PW);
    const r = await c.command('MAIL FROM:<bob@example.org>');
    assert.ok(r.code === 553 || r.code === 550, r.raw);
    assert.equal(enhanced(r.lines[0]), '5.7.1');
    assert.equal((await c.command('MAIL FROM:<alice@example.org>')).code, 250);
    await h.close();
    h = await startHarness({ role: 'submission', relay: 'queue', checkSenderOwnership: false });
    const d = await RawClient.connect(h.port);
    await d.reply();
    await d.startTls(h.ca);
    await d.auth(ALICE, ALICE_PW);
    assert.equal((await d.command('MAIL FROM:<bob@example.org>')).code, 250);
  });

  it('serves implicit TLS (RFC 8314) with AUTH offered at once', async () => {
    const c = await RawClient.connect(h.tlsPort, { implicitTls: true, ca: h.ca });
    assert.equal((await c.reply()).code, 220);
    const ehlo = await c.command('EHLO client.example.net');
    assert.ok(ehlo.lines.some((l) => /^AUTH /i.test(l)));
    assert.ok(!ehlo.lines.some((l) => /^STARTTLS/i.test(l)));
    assert.equal((await c.auth(ALICE, ALICE_PW)).code, 235);
  });

  it('offers AUTH in plaintext only with allowInsecureAuth', async () => {
    await h.close();
    h = await startHarness({ role: 'submission', relay: 'queue', allowInsecureAuth: true });
    const c = await RawClient.connect(h.port);
    await c.reply();
    const ehlo = await c.command('EHLO client.example.net');
    assert.ok(ehlo.lines.some((l) => /^AUTH /i.test(l)));
    assert.equal((await c.auth(ALICE, ALICE_PW)).code, 235);
  });

  it('keeps DSN parameters (RFC 3461) with the envelope in the queue', async () => {
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    assert.equal((await c.auth(ALICE, ALICE_PW)).code, 235);
    assert.equal((await c.command('MAIL FROM:<alice@example.org> RET=HDRS ENVID=abc+2Bdef')).code, 250);
    assert.equal(
      (
        await c.command(
          'RCPT TO:<dave@remote.example> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;dave@remote.example',
        )
      ).code,
      250,
    );
    await c.command('DATA');
    assert.equal((await c.command(`${HELLO.toString('utf8')}.`)).code, 250);
    const [item, ...more] = await h.store.queue.list();
    assert.equal(more.length, 0);
    assert.deepEqual(item!.envelope.to, ['dave@remote.example']);
    assert.equal(item!.envelope.from, ALICE);
    assert.equal(item!.envelope.dsn?.ret, 'HDRS');
    assert.equal(item!.envelope.dsn?.envid, 'abc+def');
    assert.deepEqual(item!.envelope.dsn?.notify?.['dave@remote.example'], ['SUCCESS', 'FAILURE']);
  });
});
