/**
 * The SMTP server byte for byte with a raw client: STARTTLS (RFC 3207) and its injection
 * pitfall, relay rules, limits, syntax errors, PIPELINING (RFC 2920), BDAT (RFC 3030), and
 * what the store holds afterwards.
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

describe('smtp server: MX protocol (raw client)', function () {
  let h: Harness;
  afterEach(async () => {
    await h?.close();
  });

  describe('mx role', function () {
    beforeEach(async () => {
      h = await startHarness({ role: 'mx' });
    });

    it('greets with 220 and the hostname and answers EHLO with its extensions', async () => {
      const c = await RawClient.connect(h.port);
      const greeting = await c.reply();
      assert.equal(greeting.code, 220);
      assert.match(greeting.lines[0]!, /mx\.example\.org/);
      const ehlo = await c.command('EHLO client.example.net');
      assert.equal(ehlo.code, 250);
      const ext = ehlo.lines.slice(1).map((l) => l.split(' ')[0]!.toUpperCase());
      for (const e of [
        'PIPELINING',
        'SIZE',
        '8BITMIME',
        'ENHANCEDSTATUSCODES',
        'SMTPUTF8',
        'CHUNKING',
        'DSN',
        'STARTTLS',
      ]) {
        assert.ok(ext.includes(e), `EHLO lacks ${e}: ${ehlo.raw}`);
      }
      assert.ok(!ext.includes('AUTH'), 'AUTH must not be offered before TLS');
      const size = ehlo.lines.find((l) => /^SIZE /i.test(l));
      assert.equal(size, `SIZE ${50 * 1024 * 1024}`);
      assert.equal((await c.command('QUIT')).code, 221);
      await c.closed();
    });

    it('puts a reply code with an enhanced status code on every reply (RFC 2034)', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('HELO client.example.net');
      for (const cmd of [
        'NOOP',
        'RSET',
        'VRFY alice',
        'FOO bar',
        'MAIL FROM:<x@example.net>',
        'RCPT TO:<alice@example.org>',
        'QUIT',
      ]) {
        const r = await c.command(cmd);
        assert.notEqual(enhanced(r.lines[0]), '', `${cmd} → ${r.raw}`);
        assert.equal(enhanced(r.lines[0])[0], String(r.code)[0], `class of ${cmd} → ${r.raw}`);
      }
    });

    it('delivers to a local user with Return-Path and a Received header, keeping the message intact', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      assert.equal((await c.command('MAIL FROM:<carol@example.net>')).code, 250);
      assert.equal((await c.command('RCPT TO:<alice@example.org>')).code, 250);
      assert.equal((await c.command('RCPT TO:<BOB@Example.ORG>')).code, 250);
      assert.equal((await c.command('DATA')).code, 354);
      const done = await c.command(`${HELLO.toString('utf8')}.`);
      assert.equal(done.code, 250);
      assert.equal(enhanced(done.lines[0]), '2.0.0');
      await c.command('QUIT');
      for (const user of [ALICE, BOB]) {
        const [stored, ...more] = await inbox(h.store, user);
        assert.equal(more.length, 0);
        const prefix = addedPrefix(stored!, HELLO);
        assert.match(prefix, /^Return-Path: <carol@example\.net>\r\nReceived: from client\.example\.net /);
        assert.match(prefix, /by mx\.example\.org/);
        assert.doesNotMatch(prefix, /^Message-ID:/im, 'an MX does not add Message-ID');
      }
    });

    it('names the TLS version and cipher in the Received header after STARTTLS', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      const ehlo = await c.startTls(h.ca);
      assert.equal(ehlo.code, 250);
      assert.ok(!ehlo.lines.some((l) => /^STARTTLS/i.test(l)), 'STARTTLS is not offered again under TLS');
      await c.command('MAIL FROM:<carol@example.net>');
      await c.command('RCPT TO:<alice@example.org>');
      await c.command('DATA');
      assert.equal((await c.command(`${HELLO.toString('utf8')}.`)).code, 250);
      const [stored] = await inbox(h.store, ALICE);
      const prefix = addedPrefix(stored!, HELLO);
      assert.match(prefix, /TLSv1\.3/);
      assert.match(prefix, /TLS_AES_\d+_GCM_SHA\d+|TLS_CHACHA20_POLY1305_SHA256/);
      assert.match(prefix, /with ESMTPS/);
    });

    it('never executes commands pipelined after STARTTLS (CVE-2011-0411)', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      // The injected transaction rides in the same packet as STARTTLS.
      c.write(
        'STARTTLS\r\nMAIL FROM:<evil@example.net>\r\nRCPT TO:<alice@example.org>\r\nDATA\r\nSubject: injected\r\n\r\nx\r\n.\r\n',
      );
      const r = await c.reply();
      assert.equal(r.code, 220);
      assert.equal(c.pending, '', 'nothing may follow the 220 in plaintext');
      await c.upgrade(h.ca);
      // A transaction without EHLO must fail: the injected MAIL was not kept, nor was the old EHLO.
      const mail = await c.command('MAIL FROM:<carol@example.net>');
      assert.equal(mail.code, 503, mail.raw);
      const ehlo = await c.command('EHLO client.example.net');
      assert.equal(ehlo.code, 250);
      const rcpt = await c.command('RCPT TO:<alice@example.org>');
      assert.equal(rcpt.code, 503, `the injected MAIL must not have started a transaction: ${rcpt.raw}`);
      await c.command('QUIT');
      await h.settled();
      assert.deepEqual(await inbox(h.store, ALICE), []);
    });

    it('refuses STARTTLS once in TLS and on the implicit-TLS port', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.startTls(h.ca);
      const again = await c.command('STARTTLS');
      assert.equal(again.code, 503);
      assert.equal((await c.command('NOOP')).code, 250, 'the session goes on');
      c.destroy();
      const s = await RawClient.connect(h.tlsPort, { implicitTls: true, ca: h.ca });
      assert.equal((await s.reply()).code, 220);
      await s.command('EHLO client.example.net');
      assert.equal((await s.command('STARTTLS')).code, 503);
      s.destroy();
    });

    it('is not an open relay: 550 5.7.1 for a foreign domain, the transaction goes on', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.startTls(h.ca);
      await c.command('MAIL FROM:<carol@example.net>');
      const relay = await c.command('RCPT TO:<victim@elsewhere.example>');
      assert.equal(relay.code, 550);
      assert.equal(enhanced(relay.lines[0]), '5.7.1');
      const routed = await c.command('RCPT TO:<@relay.example:victim@elsewhere.example>');
      assert.equal(routed.code, 550, 'a source route does not open the relay');
      const percent = await c.command('RCPT TO:<victim%elsewhere.example@example.org>');
      assert.ok(percent.code >= 500, `percent hack refused: ${percent.raw}`);
      assert.equal((await c.command('RCPT TO:<alice@example.org>')).code, 250);
      await c.command('DATA');
      assert.equal((await c.command(`${HELLO.toString('utf8')}.`)).code, 250);
      await c.command('QUIT');
      assert.equal((await h.store.queue.list()).length, 0, 'nothing queued for relay');
    });

    it('answers 550 5.1.1 at RCPT for an unknown local user', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      await c.command('MAIL FROM:<carol@example.net>');
      const r = await c.command('RCPT TO:<nobody@example.org>');
      assert.equal(r.code, 550);
      assert.equal(enhanced(r.lines[0]), '5.1.1');
      const data = await c.command('DATA');
      assert.equal(data.code, 554, 'DATA without a valid recipient');
    });

    it('accepts postmaster, bare or at any local domain (RFC 5321 §4.5.1), once one postmaster exists', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      await c.command('MAIL FROM:<carol@example.net>');
      assert.equal((await c.command('RCPT TO:<Postmaster>')).code, 550, 'nobody to deliver to yet');
      await h.store.accounts.addAlias('postmaster@example.org', ALICE);
      assert.equal((await c.command('RCPT TO:<Postmaster>')).code, 250);
      await h.store.accounts.addDomain('example.com');
      assert.equal((await c.command('RCPT TO:<POSTMASTER@example.com>')).code, 250);
      assert.equal((await c.command('RCPT TO:<nobody@example.com>')).code, 550);
      await c.command('DATA');
      assert.equal((await c.command(`${HELLO.toString('utf8')}.`)).code, 250);
      assert.equal((await inbox(h.store, ALICE)).length, 1, 'one copy for the postmaster');
    });

    it('refuses AUTH before TLS and refuses MAIL-less sequences with 503', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      assert.equal((await c.command('MAIL FROM:<a@example.net>')).code, 503, 'MAIL before EHLO');
      await c.command('EHLO client.example.net');
      const auth = await c.auth(ALICE, ALICE_PW);
      assert.ok(auth.code === 538 || auth.code === 530 || auth.code === 503 || auth.code === 502, auth.raw);
      assert.equal((await c.command('RCPT TO:<alice@example.org>')).code, 503);
      assert.equal((await c.command('DATA')).code, 503);
      await c.command('MAIL FROM:<a@example.net>');
      assert.equal((await c.command('MAIL FROM:<a@example.net>')).code, 503, 'nested MAIL');
    });

    it('answers bad syntax with 500/501 and the session goes on', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      const cases: Array<[string, number]> = [
        ['MAIL FROM:alice@example.org', 501],
        ['MAIL FROM:<alice@@example.org>', 501],
        ['MAIL TO:<a@example.net>', 501],
        ['MAIL FROM:<a@example.net> FOO=BAR', 555],
        ['MAIL FROM:<a@example.net> BODY=BINARYMIME', 555],
        ['MAIL FROM:<a@example.net> SIZE=abc', 501],
        ['XYZZY', 500],
        ['EHLO', 501],
      ];
      for (const [cmd, code] of cases) {
        const r = await c.command(cmd);
        assert.equal(r.code, code, `${cmd} → ${r.raw}`);
      }
      assert.equal((await c.command('EHLO client.example.net')).code, 250);
      assert.equal((await c.command('MAIL FROM:<a@example.net>')).code, 250);
      assert.equal((await c.command('RCPT TO:alice@example.org')).code, 501);
      assert.equal((await c.command('RCPT TO:<alice@example.org> NOTIFY=SOMETIMES')).code, 501);
      assert.equal((await c.command('RCPT TO:<alice@example.org>')).code, 250);
    });

    it('refuses a non-ASCII address without SMTPUTF8 and accepts it with it (RFC 6531)', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      const r = await c.command('MAIL FROM:<jörg@example.net>');
      assert.equal(r.code, 553, r.raw);
      assert.equal((await c.command('MAIL FROM:<jörg@example.net> SMTPUTF8')).code, 250);
      assert.equal((await c.command('RCPT TO:<alice@example.org>')).code, 250);
      await c.command('DATA');
      const body = message(
        {
          From: 'jörg@example.net',
          To: ALICE,
          Subject: 'Grüße',
          'Message-ID': '<u@x>',
          Date: 'Mon, 23 Nov 2026 08:00:00 +0000',
        },
        'Schöne Grüße — ✓\r\n',
      );
      assert.equal((await c.command(`${body.toString('utf8')}.`)).code, 250);
      const [stored] = await inbox(h.store, ALICE);
      const prefix = addedPrefix(stored!, body);
      assert.match(prefix, /Return-Path: <jörg@example\.net>/);
      assert.match(prefix, /with UTF8SMTP/);
    });

    it('answers a line over the limit with 500 and goes on at the next line', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      const r = await c.command(`NOOP ${'x'.repeat(5000)}`);
      assert.equal(r.code, 500, r.raw);
      assert.equal((await c.command('NOOP')).code, 250);
    });

    it('pipelines a whole transaction in one write (RFC 2920) and answers in order', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      c.write(
        'MAIL FROM:<carol@example.net>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<nobody@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n',
      );
      const codes = [];
      for (let i = 0; i < 5; i++) codes.push((await c.reply()).code);
      assert.deepEqual(codes, [250, 250, 550, 250, 354]);
      c.write(
        `${HELLO.toString('utf8')}.\r\nMAIL FROM:<carol@example.net>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\n${HELLO.toString('utf8')}.\r\nQUIT\r\n`,
      );
      const rest = [];
      for (let i = 0; i < 6; i++) rest.push((await c.reply()).code);
      assert.deepEqual(rest, [250, 250, 250, 354, 250, 221]);
      await c.closed();
      assert.equal((await inbox(h.store, ALICE)).length, 1);
      assert.equal((await inbox(h.store, BOB)).length, 2);
    });

    it('takes a message in BDAT chunks, with the LAST chunk empty or not (RFC 3030)', async () => {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      await c.command('MAIL FROM:<carol@example.net> BODY=8BITMIME');
      await c.command('RCPT TO:<alice@example.org>');
      // Chunks split anywhere, a dot at the start of a line stays as it is (no stuffing in BDAT).
      const msg = Buffer.from(
        'Subject: bdat\r\nMessage-ID: <b@x>\r\n\r\n.leading dot\r\n\u00e9t\u00e9\r\n.\r\nend\r\n',
        'utf8',
      );
      const a = msg.subarray(0, 20);
      const b = msg.subarray(20);
      c.write(Buffer.concat([Buffer.from(`BDAT ${a.length}\r\n`), a]));
      assert.equal((await c.reply()).code, 250);
      c.write(Buffer.concat([Buffer.from(`BDAT ${b.length}\r\n`), b]));
      assert.equal((await c.reply()).code, 250);
      const last = await c.command('BDAT 0 LAST');
      assert.equal(last.code, 250);
      // A second transaction pipelined entirely, the data in the LAST chunk.
      c.write(
        Buffer.concat([
          Buffer.from(
            `MAIL FROM:<carol@example.net>\r\nRCPT TO:<alice@example.org>\r\nBDAT ${msg.length} LAST\r\n`,
          ),
          msg,
          Buffer.from('NOOP\r\n'),
        ]),
      );
      const codes = [];
      for (let i = 0; i < 4; i++) codes.push((await c.reply()).code);
      assert.deepEqual(codes, [250, 250, 250, 250]);
      const stored = await inbox(h.store, ALICE);
      assert.equal(stored.length, 2);
      for (const s of stored) addedPrefix(s, msg);
      // DATA after BDAT in one transaction is refused.
      await c.command('MAIL FROM:<carol@example.net>');
      await c.command('RCPT TO:<alice@example.org>');
      c.write('BDAT 3\r\nabc');
      assert.equal((await c.reply()).code, 250);
      assert.equal((await c.command('DATA')).code, 503);
      assert.equal((await c.command('RSET')).code, 250);
      c.write('BDAT 1 LAST\r\nx');
      assert.equal((await c.reply()).code, 503, 'BDAT without MAIL (its chunk is consumed)');
      assert.equal((await c.command('NOOP')).code, 250);
    });

    it('refuses a message over the size limit, at MAIL SIZE= and after DATA, and goes on', async () => {
      await h.close();
      h = await startHarness({ role: 'mx', maxMessageSize: 10_000 });
      const c = await RawClient.connect(h.port);
      await c.reply();
      const ehlo = await c.command('EHLO client.example.net');
      assert.ok(ehlo.lines.includes('SIZE 10000'), ehlo.raw);
      const declared = await c.command('MAIL FROM:<carol@example.net> SIZE=20000');
      assert.equal(declared.code, 552);
      assert.equal(enhanced(declared.lines[0]), '5.3.4');
      await c.command('MAIL FROM:<carol@example.net> SIZE=5000');
      await c.command('RCPT TO:<alice@example.org>');
      assert.equal((await c.command('DATA')).code, 354);
      const big = `Subject: big\r\n\r\n${'0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef\r\n'.repeat(200)}`;
      const over = await c.command(`${big}.`);
      assert.equal(over.code, 552, over.raw);
      assert.equal(enhanced(over.lines[0]), '5.3.4');
      // BDAT over the limit too.
      await c.command('MAIL FROM:<carol@example.net>');
      await c.command('RCPT TO:<alice@example.org>');
      c.write(Buffer.concat([Buffer.from(`BDAT ${big.length} LAST\r\n`), Buffer.from(big)]));
      assert.equal((await c.reply()).code, 552);
      // The session goes on.
      await c.command('MAIL FROM:<carol@example.net>');
      await c.command('RCPT TO:<alice@example.org>');
      await c.command('DATA');
      assert.equal((await c.command(`${HELLO.toString('utf8')}.`)).code, 250);
      assert.equal((await inbox(h.store, ALICE)).length, 1);
    });

    it('caps recipients per transaction with 452 4.5.3 and delivers to the accepted ones', async () => {
      await h.close();
      h = await startHarness({ role: 'mx', maxRecipients: 3 });
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      await c.command('MAIL FROM:<carol@example.net>');
      for (let i = 0; i < 3; i++) assert.equal((await c.command('RCPT TO:<alice@example.org>')).code, 250);
      const r = await c.command('RCPT TO:<bob@example.org>');
      assert.equal(r.code, 452);
      assert.equal(enhanced(r.lines[0]), '4.5.3');
      await c.command('DATA');
      assert.equal((await c.command(`${HELLO.toString('utf8')}.`)).code, 250);
      assert.equal((await inbox(h.store, ALICE)).length, 1, 'one copy for a repeated recipient');
      assert.equal((await inbox(h.store, BOB)).length, 0);
    });

    it('closes with 421 after too many errors', async () => {
      await h.close();
      h = await startHarness({ role: 'mx', maxErrors: 3 });
      const c = await RawClient.connect(h.port);
      await c.reply();
      // maxErrors bad commands are answered 500; the next one at the latest gets 421 and the end.
      let r = await c.command('BAD1');
      for (let i = 2; r.code === 500 && i <= 4; i++) r = await c.command(`BAD${i}`);
      assert.equal(r.code, 421, r.raw);
      assert.equal(enhanced(r.lines[0])[0], '4');
      await c.closed();
    });
  });
});
