import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import type { Store } from '@postern/store';
import { TestClient } from './client.js';
import {
  ALICE,
  ALICE_PW,
  captureLogger,
  MESSAGES,
  startHarness,
  type Harness,
  type HarnessOptions,
} from './harness.js';

async function login(h: Harness, user = ALICE, pw = ALICE_PW): Promise<TestClient> {
  const c = await TestClient.connectTls(h.tlsPort, h.ca);
  assert.match(await c.readLine(), /^\+OK /);
  assert.match(await c.command(`USER ${user}`), /^\+OK/);
  assert.match(await c.command(`PASS ${pw}`), /^\+OK/);
  return c;
}

/** A store whose mail methods can be made to fail. */
function faulty(overrides: Partial<Store['mail']>): HarnessOptions['wrapStore'] {
  return (store) => {
    const mail = new Proxy(store.mail, {
      get(target, prop, receiver) {
        if (prop in overrides) return (overrides as Record<string | symbol, unknown>)[prop];
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    return {
      ...store,
      kind: store.kind,
      accounts: store.accounts,
      news: store.news,
      queue: store.queue,
      close: () => store.close(),
      mail,
    };
  };
}

describe('pop3 robustness', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('QUIT deletes all or nothing: a failed expunge leaves every message unflagged', async () => {
    h = await startHarness({
      wrapStore: faulty({
        expunge: async () => {
          throw new Error('disk on fire');
        },
      }),
    });
    await h.store.mail.append(ALICE, 'INBOX', MESSAGES.plain);
    await h.store.mail.append(ALICE, 'INBOX', MESSAGES.dotty);
    const c = await login(h);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.command('DELE 2'), /^\+OK/);
    assert.equal(await c.command('QUIT'), '-ERR [SYS/TEMP] some deleted messages not removed');
    await c.closedByServer();
    await h.settled();
    const left = await h.store.mail.list(ALICE, 'INBOX');
    assert.equal(left.length, 2);
    assert.ok(left.every((m) => !m.flags.includes('\\Deleted')));
  });

  it('a store failure before "+OK" is answered -ERR [SYS/TEMP] and the session goes on', async () => {
    h = await startHarness({
      wrapStore: faulty({
        openMessage: async () => {
          throw new Error('backend down');
        },
      }),
    });
    await h.store.mail.append(ALICE, 'INBOX', MESSAGES.plain);
    const c = await login(h);
    assert.equal(await c.command('RETR 1'), '-ERR [SYS/TEMP] temporary server error');
    assert.equal(await c.command('NOOP'), '+OK');
  });

  it('a message failing mid-transfer drops the connection instead of ending the block', async () => {
    h = await startHarness({
      wrapStore: faulty({
        openMessage: async () =>
          new Readable({
            read() {
              this.push(Buffer.from('From: x@y\r\n\r\npartial'));
              this.destroy(new Error('read error'));
            },
          }),
      }),
    });
    await h.store.mail.append(ALICE, 'INBOX', MESSAGES.plain);
    const c = await login(h);
    c.send('RETR 1\r\n');
    assert.match(await c.readLine(), /^\+OK/);
    const rest = await c.rest();
    assert.ok(!rest.endsWith('\r\n.\r\n'), 'no terminator after a truncated message');
  });

  it('a message expunged meanwhile (IMAP) is answered -ERR', async () => {
    h = await startHarness();
    const { uid } = await h.store.mail.append(ALICE, 'INBOX', MESSAGES.plain);
    const c = await login(h);
    await h.store.mail.updateFlags(ALICE, 'INBOX', [uid], 'add', ['\\Deleted']);
    await h.store.mail.expunge(ALICE, 'INBOX', [uid]);
    assert.match(await c.command('RETR 1'), /^-ERR \[SYS\/PERM\] message 1 is no longer available/);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    assert.match(await c.command('QUIT'), /^\+OK/);
  });

  it('graceful shutdown: idle sessions are told and closed, nothing is deleted', async () => {
    h = await startHarness();
    await h.store.mail.append(ALICE, 'INBOX', MESSAGES.plain);
    const c = await login(h);
    assert.match(await c.command('DELE 1'), /^\+OK/);
    const plain = await TestClient.connect(h.port);
    assert.match(await plain.readLine(), /^\+OK/);
    await h.server.shutdown(5000);
    assert.equal(await c.readLine(), '-ERR [SYS/TEMP] server shutting down');
    await c.closedByServer();
    assert.equal(await plain.readLine(), '-ERR [SYS/TEMP] server shutting down');
    await plain.closedByServer();
    assert.equal(h.server.connections, 0);
    assert.equal((await h.store.mail.list(ALICE, 'INBOX')).length, 1);
    // Connections after shutdown are refused.
    const late = await TestClient.connect(h.port);
    await late.closedByServer();
  });

  it('logs connection errors and failed logins, never a password or SASL payload', async () => {
    const { logger, lines } = captureLogger();
    const secret = 'Sup3r-S3cret-Passw0rd';
    h = await startHarness({ logger });
    const c = await TestClient.connectTls(h.tlsPort, h.ca);
    await c.readLine();
    await c.command(`USER ${ALICE}`);
    assert.match(await c.command(`PASS ${secret}`), /^-ERR \[AUTH\]/);
    const payload = Buffer.from(`\0${ALICE}\0${secret}`).toString('base64');
    assert.match(await c.command(`AUTH PLAIN ${payload}`), /^-ERR \[AUTH\]/);
    assert.match(await c.command(`PASS ${secret}`), /^-ERR/);
    c.destroy();
    await h.settled();
    assert.ok(
      lines.some((l) => l.includes('login failed') && l.includes(ALICE)),
      'failed logins are logged',
    );
    assert.ok(
      lines.some((l) => l.includes('connection closed')),
      'the end of a connection is logged',
    );
    for (const line of lines) {
      assert.ok(!line.includes(secret), `password logged: ${line}`);
      assert.ok(!line.includes(payload), `SASL payload logged: ${line}`);
    }
  });

  it('a failed TLS handshake after STLS ends the session and is logged', async () => {
    const { logger, lines } = captureLogger();
    h = await startHarness({ logger });
    const c = await TestClient.connect(h.port);
    await c.readLine();
    assert.match(await c.command('STLS'), /^\+OK/);
    c.send('this is not a TLS ClientHello\r\n');
    await c.closedByServer();
    await h.settled();
    assert.ok(lines.some((l) => l.includes('"level":"warn"') && l.includes('connection error')));
  });

  it('pop3s: a client that does not speak TLS is closed without a greeting', async () => {
    h = await startHarness();
    const c = await TestClient.connect(h.tlsPort);
    c.send('USER alice\r\n');
    const rest = await c.rest();
    assert.ok(!rest.includes('+OK'), 'no plaintext greeting on the implicit-TLS port');
    await h.settled();
  });
});
