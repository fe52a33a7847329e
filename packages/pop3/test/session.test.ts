import assert from 'node:assert/strict';
import { CertificateStore, NativeTlsEngine } from '@postern/core';
import type { Store } from '@postern/store';
import { Pop3Server } from '../src/index.js';
import { TestClient } from './client.js';
import { ALICE, ALICE_PW, BOB, BOB_PW, MESSAGES, startHarness, type Harness } from './harness.js';

async function login(h: Harness, user = ALICE, pw = ALICE_PW): Promise<TestClient> {
  const c = await TestClient.connect(h.port);
  assert.match(await c.readLine(), /^\+OK /);
  assert.match(await c.command('STLS'), /^\+OK /);
  await c.startTls(h.ca);
  assert.match(await c.command(`USER ${user}`), /^\+OK/);
  assert.match(await c.command(`PASS ${pw}`), /^\+OK/);
  return c;
}

function newServer(extra: { maxErrors: number }): Pop3Server {
  return new Pop3Server({
    hostname: 'x',
    tls: { engine: new NativeTlsEngine(), server: { certificates: new CertificateStore() } },
    store: {} as Store,
    ...extra,
  });
}

for (const backend of ['memory', 'fs'] as const)
  describe(`pop3 session (RFC 1939, RFC 2449, RFC 2595) over the ${backend} store`, () => {
    let h: Harness;

    beforeEach(async () => {
      h = await startHarness({ backend });
      await h.store.mail.append(ALICE, 'INBOX', MESSAGES.plain);
      await h.store.mail.append(ALICE, 'INBOX', MESSAGES.dotty);
      await h.store.mail.append(BOB, 'INBOX', MESSAGES.bob);
    });

    afterEach(async () => {
      await h.close();
    });

    it('greets, offers STLS and refuses plaintext login before TLS', async () => {
      const c = await TestClient.connect(h.port);
      assert.match(await c.readLine(), /^\+OK pop\.example\.org POP3 server ready$/);
      assert.equal(await c.command('CAPA'), '+OK Capability list follows');
      const caps = await c.readLines();
      assert.ok(caps.includes('STLS'));
      assert.ok(caps.includes('RESP-CODES') && caps.includes('AUTH-RESP-CODE'));
      assert.ok(!caps.includes('USER') && !caps.some((l) => l.startsWith('SASL')));
      assert.match(await c.command(`USER ${ALICE}`), /^-ERR .*STLS/);
      assert.match(await c.command(`PASS ${ALICE_PW}`), /^-ERR /);
      assert.match(await c.command('AUTH PLAIN'), /^-ERR /);
      assert.match(await c.command('STAT'), /^-ERR /);
      assert.match(await c.command('QUIT'), /^\+OK /);
      await c.closedByServer();
    });

    it('STLS, login, STAT, LIST, UIDL, RETR, TOP, DELE, QUIT', async () => {
      const c = await TestClient.connect(h.port);
      await c.readLine();
      assert.equal(await c.command('STLS'), '+OK Begin TLS negotiation');
      await c.startTls(h.ca);
      assert.equal(await c.command('CAPA'), '+OK Capability list follows');
      const caps = await c.readLines();
      assert.ok(!caps.includes('STLS'));
      assert.ok(caps.includes('USER') && caps.includes('SASL PLAIN'));
      assert.match(await c.command('STLS'), /^-ERR /);
      assert.equal(await c.command(`USER ${ALICE}`), '+OK send PASS');
      assert.match(await c.command(`PASS ${ALICE_PW}`), /^\+OK maildrop has 2 messages/);

      const plain = Buffer.from(MESSAGES.plain);
      const dotty = Buffer.from(MESSAGES.dotty);
      assert.equal(await c.command('STAT'), `+OK 2 ${plain.length + dotty.length}`);
      assert.match(await c.command('LIST'), /^\+OK /);
      assert.deepEqual(await c.readLines(), [`1 ${plain.length}`, `2 ${dotty.length}`]);
      assert.equal(await c.command('LIST 2'), `+OK 2 ${dotty.length}`);
      assert.match(await c.command('LIST 3'), /^-ERR /);

      assert.match(await c.command('UIDL'), /^\+OK/);
      const uidl = await c.readLines();
      assert.equal(uidl.length, 2);
      const info = await h.store.mail.getMailbox(ALICE, 'INBOX');
      const metas = await h.store.mail.list(ALICE, 'INBOX');
      assert.deepEqual(
        uidl,
        metas.map((m, i) => `${i + 1} ${info!.uidValidity}.${m.uid}`),
      );
      assert.equal(await c.command('UIDL 1'), `+OK ${uidl[0]}`);

      assert.equal(await c.command('RETR 2'), `+OK ${dotty.length} octets`);
      const raw = await c.readBlockRaw();
      assert.ok(raw.includes(Buffer.from('\r\n...two dots\r\n')), 'leading dots are doubled');
      assert.ok(raw.includes(Buffer.from('\r\n..\r\n')), 'a lone dot line is stuffed');
      assert.equal(await c.command('RETR 2'), `+OK ${dotty.length} octets`);
      assert.deepEqual(await c.readBlock(), dotty, 'byte-identical after unstuffing');

      assert.equal(await c.command('TOP 2 1'), '+OK top of message follows');
      assert.equal(
        (await c.readBlock()).toString(),
        'From: bob@example.org\r\nTo: alice@example.org\r\nSubject: dots\r\n\r\n.a line starting with a dot\r\n',
      );
      assert.match(await c.command('TOP 1 0'), /^\+OK/);
      assert.equal(
        (await c.readBlock()).toString(),
        MESSAGES.plain.slice(0, MESSAGES.plain.indexOf('\r\n\r\n') + 4),
      );

      assert.equal(await c.command('DELE 1'), '+OK message 1 deleted');
      assert.match(await c.command('DELE 1'), /^-ERR message 1 already deleted/);
      assert.match(await c.command('RETR 1'), /^-ERR /);
      assert.equal(await c.command('STAT'), `+OK 1 ${dotty.length}`);
      assert.match(await c.command('LIST'), /^\+OK/);
      assert.deepEqual(await c.readLines(), [`2 ${dotty.length}`]);
      assert.equal(await c.command('NOOP'), '+OK');
      assert.match(await c.command('QUIT'), /^\+OK .*signing off/);
      await c.closedByServer();
      await h.settled();

      const left = await h.store.mail.list(ALICE, 'INBOX');
      assert.deepEqual(
        left.map((m) => m.uid),
        [metas[1].uid],
      );
      assert.ok(left[0].flags.includes('\\Seen'), 'RETR marks \\Seen at QUIT');
    });

    it('streams a large message byte-identical, dots stuffed across chunk boundaries', async () => {
      const lines = ['From: bob@example.org', 'Subject: big', ''];
      for (let i = 0, size = 0; size < 3 * 1024 * 1024; i++) {
        const line = i % 3 === 0 ? `.${'x'.repeat(i % 997)}` : i % 3 === 1 ? '.' : `line ${i} \u00fc`;
        lines.push(line);
        size += line.length + 2;
      }
      const big = Buffer.from(lines.join('\r\n') + '\r\n');
      await h.store.mail.append(ALICE, 'INBOX', big);
      const c = await login(h);
      assert.equal(await c.command('RETR 3'), `+OK ${big.length} octets`);
      const got = await c.readBlock();
      assert.equal(got.length, big.length);
      assert.ok(got.equals(big));
      assert.equal(await c.command('NOOP'), '+OK');
    });

    it('RSET unmarks deletions', async () => {
      const c = await login(h);
      assert.match(await c.command('DELE 1'), /^\+OK/);
      assert.match(await c.command('DELE 2'), /^\+OK/);
      assert.equal(await c.command('STAT'), '+OK 0 0');
      assert.match(await c.command('RSET'), /^\+OK maildrop has 2 messages/);
      assert.match(await c.command('QUIT'), /^\+OK/);
      await c.closedByServer();
      await h.settled();
      assert.equal((await h.store.mail.list(ALICE, 'INBOX')).length, 2);
    });

    it('never executes a command pipelined in the same packet as STLS (CVE-2021-38084)', async () => {
      const c = await TestClient.connect(h.port);
      await c.readLine();
      // One write, one packet: STLS and what an attacker would inject behind it.
      c.send(`STLS\r\nCAPA\r\nUSER ${ALICE}\r\n`);
      assert.equal(await c.readLine(), '+OK Begin TLS negotiation');
      assert.equal(c.pending, 0, 'nothing answered after the STLS reply in plaintext');
      await c.startTls(h.ca);
      // Had "USER alice" been executed, PASS would log in; had CAPA, its listing would come first.
      assert.equal(await c.command(`PASS ${ALICE_PW}`), '-ERR USER first');
      assert.equal(await c.command('NOOP'), '-ERR NOOP not valid in the AUTHORIZATION state');
    });

    it('locks the maildrop: a second session gets -ERR [IN-USE]', async () => {
      const first = await login(h);
      const second = await TestClient.connect(h.port);
      await second.readLine();
      await second.command('STLS');
      await second.startTls(h.ca);
      await second.command(`USER ${ALICE}`);
      assert.match(await second.command(`PASS ${ALICE_PW}`), /^-ERR \[IN-USE\] /);
      // Still in AUTHORIZATION (RFC 1939 §4): it may try again once the lock is free.
      assert.match(await first.command('QUIT'), /^\+OK/);
      await first.closedByServer();
      await second.command(`USER ${ALICE}`);
      assert.match(await second.command(`PASS ${ALICE_PW}`), /^\+OK maildrop has 2 messages/);
      // Bob's maildrop is a different lock.
      const bob = await login(h, BOB, BOB_PW);
      assert.equal(await bob.command('STAT'), `+OK 1 ${Buffer.byteLength(MESSAGES.bob)}`);
    });

    it('a dropped connection deletes nothing and frees the lock', async () => {
      const c = await login(h);
      assert.match(await c.command('DELE 1'), /^\+OK/);
      assert.match(await c.command('DELE 2'), /^\+OK/);
      c.destroy();
      await h.settled();
      const left = await h.store.mail.list(ALICE, 'INBOX');
      assert.equal(left.length, 2);
      assert.ok(left.every((m) => !m.flags.includes('\\Deleted')));
      const again = await login(h);
      assert.equal(
        await again.command('STAT'),
        `+OK 2 ${Buffer.byteLength(MESSAGES.plain) + Buffer.byteLength(MESSAGES.dotty)}`,
      );
    });

    it("never shows one user another user's mail", async () => {
      const c = await login(h, BOB, BOB_PW);
      assert.equal(await c.command('STAT'), `+OK 1 ${Buffer.byteLength(MESSAGES.bob)}`);
      assert.match(await c.command('RETR 2'), /^-ERR no such message/);
      assert.match(await c.command('LIST 2'), /^-ERR no such message/);
      assert.match(await c.command('RETR 1'), /^\+OK/);
      assert.equal((await c.readBlock()).toString(), MESSAGES.bob);
      assert.match(await c.command('QUIT'), /^\+OK/);

      // Alice's password does not open Bob's maildrop, nor does asking for Bob as authzid.
      const a = await TestClient.connect(h.port);
      await a.readLine();
      await a.command('STLS');
      await a.startTls(h.ca);
      await a.command(`USER ${BOB}`);
      assert.match(await a.command(`PASS ${ALICE_PW}`), /^-ERR \[AUTH\] /);
      const proxy = Buffer.from(`${BOB}\0${ALICE}\0${ALICE_PW}`).toString('base64');
      assert.match(await a.command(`AUTH PLAIN ${proxy}`), /^-ERR \[AUTH\] /);
    });

    it('AUTH PLAIN with an initial response, with a continuation, and cancelled', async () => {
      const c = await TestClient.connect(h.port);
      await c.readLine();
      await c.command('STLS');
      await c.startTls(h.ca);
      assert.equal(await c.command('AUTH'), '+OK SASL mechanisms follow');
      assert.deepEqual(await c.readLines(), ['PLAIN']);
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      assert.match(await c.command('*'), /^-ERR /);
      assert.match(await c.command('AUTH CRAM-MD5'), /^-ERR /);
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      assert.match(await c.command('not base64!'), /^-ERR \[AUTH\] /);
      const creds = Buffer.from(`\0${ALICE}\0${ALICE_PW}`).toString('base64');
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      assert.match(await c.command(creds), /^\+OK maildrop has 2 messages/);
      assert.match(await c.command('QUIT'), /^\+OK/);

      const d = await TestClient.connectTls(h.tlsPort, h.ca);
      await d.readLine();
      assert.match(await d.command(`AUTH PLAIN ${creds}`), /^\+OK maildrop has 2 messages/);
    });

    it('AUTH PLAIN takes a long initial response (RFC 5034 §4) but not an over-long line', async () => {
      const carol = 'carol@example.org';
      const longPw = 'p'.repeat(250);
      await h.store.accounts.addUser(carol, longPw);
      const creds = Buffer.from(`${carol}\0${carol}\0${longPw}`).toString('base64');
      assert.ok(creds.length > 255);
      const c = await TestClient.connectTls(h.tlsPort, h.ca);
      await c.readLine();
      assert.equal(await c.command('AUTH PLAIN'), '+ ');
      assert.equal(await c.command('A'.repeat(3000)), '-ERR line too long');
      assert.match(await c.command(`AUTH PLAIN ${creds}`), /^\+OK maildrop has 0 messages/);
    });

    it('implicit TLS (pop3s): greeting after the handshake, no STLS offered', async () => {
      const c = await TestClient.connectTls(h.tlsPort, h.ca);
      assert.match(await c.readLine(), /^\+OK /);
      assert.equal(await c.command('CAPA'), '+OK Capability list follows');
      const caps = await c.readLines();
      assert.ok(!caps.includes('STLS') && caps.includes('USER'));
      assert.match(await c.command('STLS'), /^-ERR /);
      await c.command(`USER ${ALICE}`);
      assert.match(await c.command(`PASS ${ALICE_PW}`), /^\+OK/);
      assert.equal(await c.command('CAPA'), '+OK Capability list follows');
      assert.ok(!(await c.readLines()).includes('USER'), 'no login capabilities after login');
    });

    it('answers bad commands with -ERR and goes on, up to the error limit', async () => {
      const c = await TestClient.connect(h.port);
      await c.readLine();
      assert.match(await c.command('HELO there'), /^-ERR unknown command/);
      assert.match(await c.command('RETR 1'), /^-ERR RETR not valid/);
      assert.match(await c.command('X'.repeat(5000)), /^-ERR line too long/);
      assert.match(await c.command('CAPA extra'), /^-ERR syntax/);
      assert.match(await c.command('NOOP'), /^-ERR /);
      assert.match(await c.command('CAPA'), /^\+OK/);
      await c.readLines();
      for (let i = 0; i < 4; i++) assert.match(await c.command('BOGUS'), /^-ERR unknown command$/);
      assert.match(await c.command('BOGUS'), /^-ERR unknown command; too many errors, closing connection$/);
      await c.closedByServer();
    });

    it('closes after too many failed logins', async () => {
      const c = await TestClient.connect(h.port);
      await c.readLine();
      await c.command('STLS');
      await c.startTls(h.ca);
      for (let i = 0; i < 2; i++) {
        await c.command(`USER ${ALICE}`);
        assert.equal(await c.command('PASS wrong'), '-ERR [AUTH] authentication failed');
      }
      await c.command(`USER ${ALICE}`);
      assert.match(await c.command('PASS wrong'), /^-ERR \[AUTH\] authentication failed; too many failures/);
      await c.closedByServer();
    });

    it('PASS without USER and USER with no name are refused', async () => {
      const c = await TestClient.connectTls(h.tlsPort, h.ca);
      await c.readLine();
      assert.equal(await c.command(`PASS ${ALICE_PW}`), '-ERR USER first');
      assert.match(await c.command('USER'), /^-ERR syntax/);
      assert.match(await c.command(`USER ${ALICE}`), /^\+OK/);
      assert.match(await c.command('PASS'), /^-ERR syntax/);
    });
  });

describe('pop3 server options', () => {
  it('allows plaintext login only with allowInsecureAuth', async () => {
    const h = await startHarness({ allowInsecureAuth: true });
    try {
      const c = await TestClient.connect(h.port);
      await c.readLine();
      assert.equal(await c.command('CAPA'), '+OK Capability list follows');
      const caps = await c.readLines();
      assert.ok(caps.includes('USER') && caps.includes('STLS'));
      await c.command(`USER ${ALICE}`);
      assert.match(await c.command(`PASS ${ALICE_PW}`), /^\+OK maildrop has 0 messages/);
      assert.match(await c.command('QUIT'), /^\+OK/);
    } finally {
      await h.close();
    }
  });

  it('autologout: an idle session is closed without entering UPDATE (RFC 1939 §3)', async () => {
    const h = await startHarness({ idleTimeoutMs: 300 });
    try {
      await h.store.mail.append(ALICE, 'INBOX', MESSAGES.plain);
      const c = await login(h);
      assert.match(await c.command('DELE 1'), /^\+OK/);
      assert.equal(await c.readLine(), '-ERR autologout: idle for too long');
      await c.closedByServer();
      await h.settled();
      assert.equal((await h.store.mail.list(ALICE, 'INBOX')).length, 1);
    } finally {
      await h.close();
    }
  });

  it('rejects nonsensical limits', () => {
    assert.throws(() => newServer({ maxErrors: 0 }), RangeError);
  });
});
