import assert from 'node:assert/strict';
import { BOB, CAROL, RawClient, inbox, startSmtp, withoutTrace, type SmtpHarness } from './harness.js';

const PLAIN = (u: string, p: string) => Buffer.from(`\0${u}\0${p}`).toString('base64');

/** Connect to submission, STARTTLS, EHLO again, AUTH PLAIN as bob. */
async function loggedIn(h: SmtpHarness): Promise<RawClient> {
  const c = await RawClient.connect(h.ports.submission);
  assert.match(await c.reply(), /^220 mx\.example\.test ESMTP/);
  await c.command('EHLO client.test');
  assert.match(await c.command('STARTTLS'), /^220 2\.0\.0/);
  await c.upgrade(h.ca);
  await c.command('EHLO client.test');
  assert.match(await c.command(`AUTH PLAIN ${PLAIN(BOB.address, BOB.password)}`), /^235 2\.7\.0/);
  return c;
}

describe('SMTP sessions (raw protocol)', function () {
  let h: SmtpHarness;
  beforeEach(async () => {
    h = await startSmtp({ maxMessageSize: 64 * 1024, maxErrors: 6 });
  });
  afterEach(async () => h.close());

  it('greets, advertises extensions, and offers AUTH only under TLS', async () => {
    const c = await RawClient.connect(h.ports.submission);
    await c.reply();
    const ehlo = await c.command('EHLO client.test');
    for (const ext of [
      'PIPELINING',
      'SIZE 65536',
      '8BITMIME',
      'ENHANCEDSTATUSCODES',
      'SMTPUTF8',
      'CHUNKING',
      'DSN',
      'STARTTLS',
    ]) {
      assert.match(ehlo, new RegExp(`^250[ -]${ext}\\r?$`, 'm'), ext);
    }
    assert.doesNotMatch(ehlo, /AUTH/);
    assert.match(await c.command(`AUTH PLAIN ${PLAIN(BOB.address, BOB.password)}`), /^538 5\.7\.11/);
    assert.match(await c.command('MAIL FROM:<bob@example.test>'), /^530 5\.7\.0/);
    await c.command('STARTTLS');
    await c.upgrade(h.ca);
    const again = await c.command('EHLO client.test');
    assert.match(again, /^250[ -]AUTH PLAIN LOGIN/m);
    assert.doesNotMatch(again, /STARTTLS/);
    assert.match(await c.command('STARTTLS'), /^503 5\.5\.1/);
    c.close();
  });

  it('never executes commands pipelined behind STARTTLS (RFC 3207 §4.2, CVE-2011-0411)', async () => {
    const c = await RawClient.connect(h.ports.mx);
    await c.reply();
    await c.command('EHLO client.test');
    c.write('STARTTLS\r\nMAIL FROM:<evil@attacker.test>\r\nRCPT TO:<bob@example.test>\r\n');
    assert.match(await c.reply(), /^220 2\.0\.0/);
    await c.upgrade(h.ca);
    // Had the injected MAIL run, RCPT would now be accepted; EHLO is required again too.
    assert.match(await c.command('RCPT TO:<bob@example.test>'), /^503 5\.5\.1/);
    assert.match(await c.command('MAIL FROM:<a@remote.test>'), /^503 5\.5\.1 Send EHLO/);
    c.close();
  });

  it('is not an open relay: the MX refuses remote recipients from strangers', async () => {
    const c = await RawClient.connect(h.ports.mx);
    await c.reply();
    await c.command('EHLO client.test');
    assert.match(await c.command('MAIL FROM:<someone@remote.test>'), /^250 2\.1\.0/);
    assert.match(await c.command('RCPT TO:<victim@elsewhere.test>'), /^550 5\.7\.1/);
    assert.match(await c.command('RCPT TO:<nobody@example.test>'), /^550 5\.1\.1/);
    assert.match(await c.command('RCPT TO:<bob@example.test>'), /^250 2\.1\.5/);
    assert.equal((await h.store.queue.list()).length, 0);
    c.close();
  });

  it('delivers from the MX to a local INBOX byte for byte, with Return-Path and a Received header naming TLS', async () => {
    const body =
      'From: x@remote.test\r\nTo: bob@example.test\r\nSubject: hi\r\n\r\n..a dot line\r\nbody \xe9 8bit\r\n';
    const c = await RawClient.connect(h.ports.mx);
    await c.reply();
    await c.command('EHLO client.test');
    await c.command('STARTTLS');
    await c.upgrade(h.ca);
    await c.command('EHLO client.test');
    assert.match(await c.command('MAIL FROM:<x@remote.test> BODY=8BITMIME'), /^250/);
    assert.match(await c.command('RCPT TO:<bob@example.test>'), /^250/);
    assert.match(await c.command('DATA'), /^354/);
    c.write(Buffer.from(body + '.\r\n', 'latin1'));
    assert.match(await c.reply(), /^250 2\.0\.0 OK: queued as \S+/);
    const [msg] = await inbox(h.store, BOB.address);
    const text = msg!.toString('latin1');
    assert.match(text, /^Return-Path: <x@remote\.test>\r\nReceived: from client\.test \(\[127\.0\.0\.1\]\)/);
    assert.match(text, /with ESMTPS id \S+\r\n\t\(using TLSv1\.3 with cipher TLS_\w+/);
    assert.equal(withoutTrace(msg!).toString('latin1'), body.replace('\r\n..a', '\r\n.a'));
    c.close();
  });

  it('pipelines MAIL, RCPT, RCPT and DATA and answers each in order (RFC 2920)', async () => {
    const c = await loggedIn(h);
    c.write(
      'MAIL FROM:<bob@example.test>\r\nRCPT TO:<carol@example.test>\r\nRCPT TO:<nobody@example.test>\r\nDATA\r\n',
    );
    assert.match(await c.reply(), /^250 2\.1\.0/);
    assert.match(await c.reply(), /^250 2\.1\.5/);
    assert.match(await c.reply(), /^550 5\.1\.1/);
    assert.match(await c.reply(), /^354/);
    c.write(
      'Subject: piped\r\nMessage-ID: <p@x>\r\nDate: Mon, 1 Jan 2026 00:00:00 +0000\r\n\r\nhello\r\n.\r\nQUIT\r\n',
    );
    assert.match(await c.reply(), /^250 2\.0\.0/);
    assert.match(await c.reply(), /^221/);
    assert.equal((await inbox(h.store, CAROL.address)).length, 1);
  });

  it('takes BDAT chunks (RFC 3030) and stores exactly what was sent', async () => {
    const c = await loggedIn(h);
    const part1 =
      'Subject: chunks\r\nMessage-ID: <c@x>\r\nDate: Mon, 1 Jan 2026 00:00:00 +0000\r\n\r\nline one\r\n.line with dot\r\n';
    const part2 = 'last line without stuffing\r\n';
    await c.command('MAIL FROM:<bob@example.test>');
    await c.command('RCPT TO:<carol@example.test>');
    c.write(`BDAT ${Buffer.byteLength(part1)}\r\n${part1}`);
    assert.match(await c.reply(), /^250 2\.0\.0 \d+ octets/);
    c.write(`BDAT ${Buffer.byteLength(part2)} LAST\r\n${part2}`);
    assert.match(await c.reply(), /^250 2\.0\.0 OK: queued/);
    const [msg] = await inbox(h.store, CAROL.address);
    assert.equal(withoutTrace(msg!).toString(), part1 + part2);
    c.write('BDAT 3 LAST\r\nabc');
    assert.match(await c.reply(), /^503 5\.5\.1/, 'BDAT without MAIL is refused, and its chunk skipped');
    assert.match(await c.command('NOOP'), /^250/);
    c.close();
  });

  it('refuses a message over the size limit, by SIZE and by DATA, and the session goes on', async () => {
    const c = await loggedIn(h);
    assert.match(await c.command('MAIL FROM:<bob@example.test> SIZE=999999'), /^552 5\.3\.4/);
    await c.command('MAIL FROM:<bob@example.test>');
    await c.command('RCPT TO:<carol@example.test>');
    await c.command('DATA');
    c.write(
      'Subject: big\r\n\r\n' +
        'x'.repeat(100) +
        '\r\n'.repeat(1) +
        ('y'.repeat(998) + '\r\n').repeat(80) +
        '.\r\n',
    );
    assert.match(await c.reply(), /^552 5\.3\.4/);
    assert.match(await c.command('NOOP'), /^250/);
    assert.equal((await inbox(h.store, CAROL.address)).length, 0);
    c.close();
  });

  it('answers bad syntax with 5xx codes and disconnects after too many errors', async () => {
    const c = await RawClient.connect(h.ports.mx);
    await c.reply();
    assert.match(await c.command('FROB'), /^500 5\.5\.2/);
    assert.match(await c.command('EHLO'), /^501 5\.5\.4/);
    await c.command('EHLO client.test');
    assert.match(await c.command('MAIL FROM:bob@example.test'), /^501 5\.1\.7/);
    assert.match(await c.command('MAIL FROM:<not an address>'), /^501 5\.1\.3/);
    assert.match(await c.command('MAIL FROM:<a@b.test> FOO=1'), /^555 5\.5\.4/);
    assert.match(await c.command('MAIL FROM:<j\u00f6rg@b.test>'), /^553 5\.6\.7/);
    assert.match(await c.command('FROB'), /^421 4\.7\.0/);
    await c.ended();
  });

  it('refuses an oversize command line and resynchronises', async () => {
    const c = await RawClient.connect(h.ports.mx);
    await c.reply();
    assert.match(await c.command('NOOP ' + 'x'.repeat(5000)), /^500 5\.5\.2 Line too long/);
    assert.match(await c.command('NOOP'), /^250/);
    c.close();
  });

  it('authenticates with LOGIN, refuses bad passwords with 535, and checks sender ownership', async () => {
    const c = await RawClient.connect(h.ports.smtps, true, h.ca);
    await c.reply();
    await c.command('EHLO client.test');
    assert.match(await c.command('AUTH LOGIN'), /^334 VXNlcm5hbWU6/);
    assert.match(await c.command(Buffer.from(BOB.address).toString('base64')), /^334 UGFzc3dvcmQ6/);
    assert.match(await c.command(Buffer.from('wrong').toString('base64')), /^535 5\.7\.8/);
    assert.match(await c.command(`AUTH LOGIN ${Buffer.from(BOB.address).toString('base64')}`), /^334/);
    assert.match(await c.command(Buffer.from(BOB.password).toString('base64')), /^235 2\.7\.0/);
    assert.match(await c.command('MAIL FROM:<carol@example.test>'), /^553 5\.7\.1/);
    assert.match(await c.command('MAIL FROM:<bob@example.test>'), /^250/);
    assert.match(await c.command('RCPT TO:<friend@remote.test>'), /^250/, 'authenticated users relay');
    assert.match(await c.command('DATA'), /^354/);
    c.write('Subject: out\r\n\r\nto the world\r\n.\r\n');
    assert.match(await c.reply(), /^250/);
    const [item] = await h.store.queue.list();
    assert.deepEqual(item?.envelope.to, ['friend@remote.test']);
    c.close();
  });
});
