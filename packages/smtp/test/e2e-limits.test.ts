/**
 * Limits and lifecycle: graceful shutdown (421 4.3.2 to idle sessions, an in-flight DATA
 * finishes), connections per IP, the idle timeout (RFC 5321 §4.5.3.2), the AUTH throttle, and
 * logs that carry one line per protocol error and never a secret.
 */
import assert from 'node:assert/strict';
import { AuthThrottle, type Logger } from '@postern/core';
import {
  ALICE,
  ALICE_PW,
  BOB,
  inbox,
  message,
  RawClient,
  startHarness,
  type Harness,
} from './e2e-harness.js';

const RAW = message(
  {
    From: 'carol@remote.example',
    To: BOB,
    Subject: 'limits',
    'Message-ID': '<l@x>',
    Date: 'Mon, 23 Nov 2026 08:00:00 +0000',
  },
  'body\r\n',
);

function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const log =
      (level: string) =>
      (objOrMsg: object | string, msg?: string): void => {
        lines.push(
          JSON.stringify({
            level,
            ...bindings,
            ...(typeof objOrMsg === 'string' ? { msg: objOrMsg } : { ...objOrMsg, msg }),
          }),
        );
      };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (more) => make({ ...bindings, ...more }),
    };
  };
  return { logger: make({}), lines };
}

describe('smtp server: limits and lifecycle', function () {
  this.timeout(30_000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('shutdown says 421 4.3.2 to idle sessions and lets an in-flight DATA finish', async () => {
    h = await startHarness({ role: 'mx' });
    const idle = await RawClient.connect(h.port);
    await idle.reply();
    await idle.command('EHLO idle.example.net');
    const busy = await RawClient.connect(h.port);
    await busy.reply();
    await busy.command('EHLO busy.example.net');
    await busy.command('MAIL FROM:<carol@remote.example>');
    await busy.command('RCPT TO:<bob@example.org>');
    assert.equal((await busy.command('DATA')).code, 354);
    const half = RAW.length >> 1;
    busy.write(RAW.subarray(0, half));
    const stopping = h.server.shutdown(20_000);
    const bye = await idle.reply();
    assert.equal(bye.code, 421);
    assert.match(bye.lines[0]!, /^4\.3\.2 /);
    await idle.closed();
    busy.write(Buffer.concat([RAW.subarray(half), Buffer.from('.\r\n')]));
    const done = await busy.reply();
    assert.equal(done.code, 250, 'the message in flight is accepted');
    const after = await busy.reply();
    assert.equal(after.code, 421, 'then the session is told to go');
    await busy.closed();
    await stopping;
    assert.equal((await inbox(h.store, BOB)).length, 1);
  });

  it('shutdown drops what is left at the deadline', async () => {
    h = await startHarness({ role: 'mx' });
    const busy = await RawClient.connect(h.port);
    await busy.reply();
    await busy.command('EHLO busy.example.net');
    await busy.command('MAIL FROM:<carol@remote.example>');
    await busy.command('RCPT TO:<bob@example.org>');
    await busy.command('DATA');
    busy.write('Subject: never finished\r\n\r\n');
    await h.server.shutdown(100);
    await busy.closed();
    assert.equal((await inbox(h.store, BOB)).length, 0);
  });

  it('limits concurrent connections per IP with 421 4.7.0, and frees the slot on close', async () => {
    h = await startHarness({ role: 'mx', maxConnectionsPerIp: 2 });
    const a = await RawClient.connect(h.port);
    assert.equal((await a.reply()).code, 220);
    const b = await RawClient.connect(h.port);
    assert.equal((await b.reply()).code, 220);
    const c = await RawClient.connect(h.port);
    const refused = await c.reply();
    assert.equal(refused.code, 421);
    assert.match(refused.lines[0]!, /^4\.7\.0 /);
    await c.closed();
    await a.command('QUIT');
    await a.closed();
    // The server has released a's slot once its handleConnection is done; b keeps its own.
    for (;;) {
      const d = await RawClient.connect(h.port);
      const r = await d.reply();
      d.destroy();
      if (r.code === 220) break;
      assert.equal(r.code, 421);
    }
  });

  it('closes an idle session with 421 4.4.2 after idleTimeoutMs', async () => {
    h = await startHarness({ role: 'mx', idleTimeoutMs: 1000 });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.command('EHLO client.example.net');
    const r = await c.reply();
    assert.equal(r.code, 421);
    assert.match(r.lines[0]!, /^4\.4\.2 /);
    await c.closed();
  });

  it('says 421 4.4.2 when the client goes quiet in the middle of DATA or BDAT, and keeps nothing', async () => {
    h = await startHarness({ role: 'mx', idleTimeoutMs: 1000 });
    for (const start of ['DATA\r\n', 'BDAT 1000\r\n']) {
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      await c.command('MAIL FROM:<carol@remote.example>');
      await c.command('RCPT TO:<bob@example.org>');
      c.write(start);
      if (start.startsWith('DATA')) assert.equal((await c.reply()).code, 354);
      c.write('Subject: half a message\r\n');
      const r = await c.reply();
      assert.equal(r.code, 421, r.raw);
      assert.match(r.lines[0]!, /^4\.4\.2 /);
      await c.closed();
    }
    assert.equal((await inbox(h.store, BOB)).length, 0);
  });

  it('throttles AUTH failures per (user, IP): that pair gets 454 4.7.0, even for the right password', async () => {
    h = await startHarness({
      role: 'submission',
      relay: 'queue',
      authThrottle: new AuthThrottle({ freeFailures: 2, lockoutFailures: 3, baseDelayMs: 1, maxDelayMs: 1 }),
    });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    for (let i = 0; i < 3; i++) assert.equal((await c.auth(ALICE, `wrong ${i}`)).code, 535);
    const locked = await c.auth(ALICE, ALICE_PW);
    assert.equal(locked.code, 454, locked.raw);
    assert.match(locked.lines[0]!, /^4\.7\.0 /);
    // Another user from the same address is not refused: a few failures are no reason to
    // refuse the whole address (issue 19, item 4).
    assert.equal((await c.auth(BOB, 'b0b-Secret!')).code, 235);
  });

  it('never locks a user out from everywhere: the owner gets in from 127.0.0.2 after guesses from 127.0.0.1', async () => {
    h = await startHarness({
      role: 'submission',
      relay: 'queue',
      authThrottle: new AuthThrottle({ freeFailures: 2, lockoutFailures: 3, baseDelayMs: 1, maxDelayMs: 1 }),
    });
    const a = await RawClient.connect(h.port);
    await a.reply();
    await a.startTls(h.ca);
    for (let i = 0; i < 3; i++) assert.equal((await a.auth(ALICE, `wrong ${i}`)).code, 535);
    assert.equal((await a.auth(ALICE, ALICE_PW)).code, 454, 'the guessing address is refused for alice');
    const b = await RawClient.connect(h.port, { localAddress: '127.0.0.2' });
    await b.reply();
    await b.startTls(h.ca);
    assert.equal((await b.auth(ALICE, ALICE_PW)).code, 235, 'alice gets in from another address');
  });

  it('counts connections per address: another address still gets in', async () => {
    h = await startHarness({ role: 'mx', maxConnectionsPerIp: 1 });
    const a = await RawClient.connect(h.port);
    assert.equal((await a.reply()).code, 220);
    const refused = await RawClient.connect(h.port);
    assert.equal((await refused.reply()).code, 421);
    const other = await RawClient.connect(h.port, { localAddress: '127.0.0.2' });
    assert.equal((await other.reply()).code, 220);
    assert.equal((await other.command('QUIT')).code, 221);
    a.destroy();
  });

  it('logs one line per protocol error and never an AUTH payload or password', async () => {
    const { logger, lines } = captureLogger();
    h = await startHarness({ role: 'submission', relay: 'queue', logger });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    const plain = Buffer.from(`\0${ALICE}\0${ALICE_PW}`).toString('base64');
    const wrong = Buffer.from(`\0${ALICE}\0hunter2-wrong`).toString('base64');
    assert.equal((await c.command(`AUTH PLAIN ${wrong}`)).code, 535);
    assert.equal((await c.command('AUTH LOGIN')).code, 334);
    await c.command(Buffer.from(ALICE).toString('base64'));
    assert.equal((await c.command(Buffer.from('login-wrong-pw').toString('base64'))).code, 535);
    assert.equal((await c.command(`AUTH PLAIN ${plain}`)).code, 235);
    const before = lines.length;
    assert.equal((await c.command('XYZZY')).code, 500);
    assert.equal((await c.command(`NOOP ${'x'.repeat(3000)}`)).code, 500);
    assert.equal((await c.command('MAIL FROM:<bob@example.org>')).code, 553);
    const errorLines = lines.slice(before);
    assert.equal(errorLines.length, 3, `one line per protocol error:\n${errorLines.join('\n')}`);
    await c.command('QUIT');
    await h.settled();
    const all = lines.join('\n');
    for (const secret of [
      ALICE_PW,
      'hunter2-wrong',
      'login-wrong-pw',
      plain,
      wrong,
      Buffer.from('login-wrong-pw').toString('base64'),
    ]) {
      assert.ok(!all.includes(secret), `a secret was logged: ${secret}`);
    }
  });
});
