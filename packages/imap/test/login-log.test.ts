/**
 * Issue 19, item 4: every failed IMAP login is logged as POP3 and SMTP log theirs — the user
 * and the remote address, never the password — and a throttled one answers NO [UNAVAILABLE].
 */
import assert from 'node:assert/strict';
import { AuthThrottle, type Logger } from '@postern/core';
import { RawClient } from './client.js';
import { ALICE, ALICE_PW, startHarness, type Harness } from './harness.js';

function captureLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const make = (bindings: Record<string, unknown>): Logger => {
    const log =
      (level: string) =>
      (objOrMsg: object | string, msg?: string): void => {
        const fields = typeof objOrMsg === 'string' ? {} : objOrMsg;
        const text = typeof objOrMsg === 'string' ? objOrMsg : msg;
        lines.push(JSON.stringify({ level, ...bindings, ...fields, msg: text }));
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

describe('imap: failed logins are logged and throttled', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('logs each failed LOGIN and AUTHENTICATE with user and remote, never the password', async () => {
    const { logger, lines } = captureLogger();
    h = await startHarness({ allowInsecureAuth: true, logger });
    const c = await RawClient.connect(h.port);
    await c.readLine();
    const wrong = 'Tr0ub4dor&3-wrong';
    assert.match(
      (await c.command('a', `LOGIN ${ALICE} "${wrong}"`)).at(-1)!,
      /^a NO \[AUTHENTICATIONFAILED\]/,
    );
    const sasl = Buffer.from(`\0${ALICE}\0${wrong}`).toString('base64');
    assert.match(
      (await c.command('b', `AUTHENTICATE PLAIN ${sasl}`)).at(-1)!,
      /^b NO \[AUTHENTICATIONFAILED\]/,
    );
    const failed = lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((l) => l.msg === 'login failed');
    assert.equal(failed.length, 2, lines.join('\n'));
    for (const entry of failed) {
      assert.equal(entry.level, 'warn');
      assert.equal(entry.user, ALICE);
      assert.match(String(entry.remote), /^127\.0\.0\.1:\d+$/);
    }
    assert.deepEqual(
      failed.map((l) => l.mechanism),
      ['LOGIN', 'PLAIN'],
    );
    const all = lines.join('\n');
    assert.ok(!all.includes(wrong) && !all.includes(sasl), 'no password or SASL payload in the log');
    c.socket.destroy();
  });

  it('answers a throttled login NO [UNAVAILABLE], without checking it, and logs it', async () => {
    const { logger, lines } = captureLogger();
    h = await startHarness({
      allowInsecureAuth: true,
      logger,
      authThrottle: new AuthThrottle({ freeFailures: 1, lockoutFailures: 2, baseDelayMs: 1, maxDelayMs: 1 }),
    });
    const c = await RawClient.connect(h.port);
    await c.readLine();
    for (const tag of ['a', 'b']) {
      assert.match((await c.command(tag, `LOGIN ${ALICE} wrong`)).at(-1)!, /^\w NO \[AUTHENTICATIONFAILED\]/);
    }
    assert.match((await c.command('c', `LOGIN ${ALICE} "${ALICE_PW}"`)).at(-1)!, /^c NO \[UNAVAILABLE\]/);
    assert.ok(lines.some((l) => l.includes('login throttled') && l.includes(ALICE)));
    c.socket.destroy();
  });
});
