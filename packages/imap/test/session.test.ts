import assert from 'node:assert/strict';
import { ALICE, ALICE_PW, BOB, message, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';

function tagged(lines: string[]): string {
  return lines[lines.length - 1];
}

describe('imap session (raw protocol)', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness();
  });
  afterEach(async () => {
    await h.close();
  });

  async function login(): Promise<RawClient> {
    const c = await RawClient.connect(h.port);
    await c.readLine();
    assert.match(tagged(await c.command('s', 'STARTTLS')), /^s OK/);
    await c.startTls(h.ca);
    assert.match(tagged(await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^l OK/);
    return c;
  }

  it('greets with capabilities, LOGINDISABLED and STARTTLS before TLS', async () => {
    const c = await RawClient.connect(h.port);
    const greeting = await c.readLine();
    assert.match(greeting, /^\* OK \[CAPABILITY IMAP4rev1 .*STARTTLS.*LOGINDISABLED/);
    assert.doesNotMatch(greeting, /AUTH=PLAIN/);
    const res = await c.command('a', `LOGIN ${ALICE} "${ALICE_PW}"`);
    assert.match(tagged(res), /^a NO \[PRIVACYREQUIRED\]/);
    const auth = await c.command(
      'b',
      `AUTHENTICATE PLAIN ${Buffer.from(`\0${ALICE}\0${ALICE_PW}`).toString('base64')}`,
    );
    assert.match(tagged(auth), /^b NO \[PRIVACYREQUIRED\]/);
    c.close();
  });

  it('authenticates after STARTTLS, with SASL-IR and with a continuation', async () => {
    const c = await RawClient.connect(h.port);
    await c.readLine();
    await c.command('s', 'STARTTLS');
    await c.startTls(h.ca);
    const caps = await c.command('c', 'CAPABILITY');
    assert.match(caps[0], /AUTH=PLAIN/);
    assert.doesNotMatch(caps[0], /STARTTLS|LOGINDISABLED/);
    const bad = await c.command(
      'x',
      `AUTHENTICATE PLAIN ${Buffer.from(`\0${ALICE}\0wrong`).toString('base64')}`,
    );
    assert.match(tagged(bad), /^x NO \[AUTHENTICATIONFAILED\]/);
    c.send('a AUTHENTICATE PLAIN\r\n');
    assert.equal(await c.readLine(), '+ ');
    c.send(`${Buffer.from(`\0${ALICE}\0${ALICE_PW}`).toString('base64')}\r\n`);
    const ok = await c.until('a');
    assert.match(tagged(ok), /^a OK \[CAPABILITY /);
    c.close();
  });

  it('drops commands injected after STARTTLS (CVE-2011-0411 class)', async () => {
    const c = await RawClient.connect(h.port);
    await c.readLine();
    // The injected command rides in the same packet as STARTTLS.
    c.send('s STARTTLS\r\nx LOGOUT\r\n');
    assert.match(await c.readLine(), /^s OK/);
    await c.startTls(h.ca);
    const res = await c.command('n', 'NOOP');
    assert.deepEqual(res, ['n OK NOOP completed']);
    c.close();
  });

  it('reads synchronizing and non-synchronizing literals, split across packets', async () => {
    const c = await RawClient.connect(h.port);
    await c.readLine();
    await c.command('s', 'STARTTLS');
    await c.startTls(h.ca);
    c.send(`a LOGIN {${ALICE.length}}\r\n`);
    assert.match(await c.readLine(), /^\+ /);
    c.send(ALICE.slice(0, 5));
    c.send(`${ALICE.slice(5)} {${ALICE_PW.length}+}\r\n${ALICE_PW.slice(0, 3)}`);
    c.send(`${ALICE_PW.slice(3)}\r\n`);
    assert.match(tagged(await c.until('a')), /^a OK/);
    c.close();
  });

  it('selects, appends, searches, fetches, stores and expunges', async () => {
    const c = await login();
    const msg = message('first');
    c.send(`a APPEND INBOX (\\Flagged) " 5-Nov-2026 10:00:00 +0100" {${msg.length}}\r\n`);
    assert.match(await c.readLine(), /^\+ /);
    c.send(`${msg}\r\n`);
    const app = await c.until('a');
    assert.match(tagged(app), /^a OK \[APPENDUID \d+ 1\]/);
    await h.store.mail.append(ALICE, 'INBOX', message('second'));
    const sel = await c.command('b', 'SELECT INBOX');
    assert.ok(sel.includes('* 2 EXISTS'), sel.join('\n'));
    assert.match(tagged(sel), /^b OK \[READ-WRITE\]/);
    assert.deepEqual(await c.command('c', 'SEARCH FLAGGED'), ['* SEARCH 1', 'c OK SEARCH completed']);
    assert.deepEqual(await c.command('d', 'UID SEARCH UNFLAGGED'), ['* SEARCH 2', 'd OK SEARCH completed']);
    const f = await c.command('e', 'FETCH 1 (UID FLAGS INTERNALDATE RFC822.SIZE BODY.PEEK[])');
    assert.equal(
      f[0],
      `* 1 FETCH (UID 1 FLAGS (\\Flagged) INTERNALDATE " 5-Nov-2026 09:00:00 +0000" RFC822.SIZE ${msg.length} BODY[] {${msg.length}}\r\n${msg})`,
    );
    assert.equal(f[1], 'e OK FETCH completed');
    const st = await c.command('g', 'STORE 1:2 +FLAGS (\\Deleted)');
    assert.equal(st.length, 3, st.join('\n'));
    assert.match(st[0], /^\* 1 FETCH \(FLAGS \(.*\\Deleted/);
    const ex = await c.command('h', 'EXPUNGE');
    assert.deepEqual(ex, ['* 2 EXPUNGE', '* 1 EXPUNGE', 'h OK EXPUNGE completed']);
    c.close();
  });

  it("never shows another user's mailboxes", async () => {
    await h.store.mail.createMailbox(BOB, 'BobSecret');
    const c = await login();
    const list = await c.command('a', 'LIST "" *');
    assert.ok(!list.some((l) => /BobSecret/.test(l)), list.join('\n'));
    assert.match(tagged(await c.command('b', 'SELECT BobSecret')), /^b NO \[NONEXISTENT\]/);
    assert.match(tagged(await c.command('c', 'STATUS BobSecret (MESSAGES)')), /^c NO \[NONEXISTENT\]/);
    assert.match(tagged(await c.command('d', `SELECT "../${BOB}/INBOX"`)), /^d NO/);
    assert.match(tagged(await c.command('e', 'CREATE "a/../b"')), /^e NO \[CANNOT\]/);
    assert.match(tagged(await c.command('f', 'CREATE "/etc"')), /^f NO \[CANNOT\]/);
    c.close();
  });

  it('disconnects after too many bad commands', async () => {
    await h.close();
    h = await startHarness({ maxBadCommands: 3 });
    const c = await RawClient.connect(h.port);
    await c.readLine();
    await c.command('a', 'FOO');
    await c.command('b', 'BAR');
    const last = await c.command('c', 'BAZ');
    assert.match(last[0], /^c BAD/);
    assert.match(await c.readLine(), /^\* BYE/);
    assert.equal(await c.closed(), true);
  });
});

describe('imap server lifecycle', () => {
  it('greets over implicit TLS and says BYE on shutdown', async () => {
    const h = await startHarness();
    try {
      const { connect } = await import('node:tls');
      const socket = connect({ host: '127.0.0.1', port: h.tlsPort, ca: h.ca, servername: 'localhost' });
      const lines: string[] = [];
      let buf = '';
      const next = () =>
        new Promise<string>((resolve, reject) => {
          const tryLine = () => {
            const i = buf.indexOf('\r\n');
            if (i === -1) return false;
            const line = buf.slice(0, i);
            buf = buf.slice(i + 2);
            resolve(line);
            return true;
          };
          if (tryLine()) return;
          const onData = (d: Buffer) => {
            buf += d.toString();
            if (tryLine()) socket.off('data', onData);
          };
          socket.on('data', onData);
          socket.once('error', reject);
        });
      lines.push(await next());
      assert.match(lines[0], /^\* OK \[CAPABILITY IMAP4rev1 .*AUTH=PLAIN/);
      assert.doesNotMatch(lines[0], /STARTTLS|LOGINDISABLED/);
      const stopped = h.server.shutdown(5000);
      assert.match(await next(), /^\* BYE/);
      await stopped;
      socket.destroy();
    } finally {
      await h.close();
    }
  });

  it('closes the connection after too many failed logins', async () => {
    const h = await startHarness({ allowInsecureAuth: true, maxAuthFailures: 2 });
    try {
      const c = await RawClient.connect(h.port);
      await c.readLine();
      assert.match(tagged(await c.command('a', `LOGIN ${ALICE} wrong`)), /^a NO \[AUTHENTICATIONFAILED\]/);
      assert.match(tagged(await c.command('b', `LOGIN ${ALICE} wrong`)), /^b NO \[AUTHENTICATIONFAILED\]/);
      assert.match(await c.readLine(), /^\* BYE/);
      assert.equal(await c.closed(), true);
    } finally {
      await h.close();
    }
  });
});
