/**
 * Issue 19 item 4: the login throttle counts attempts in flight, by (user, IP) and by IP, with
 * one budget across protocols, and slows an attacker without locking the real user out from
 * elsewhere. "A real verdict" is a password check: the store's `verifyPassword` is counted.
 * In-process gateway: nothing here can crash it.
 */
import assert from 'node:assert/strict';
import { OTHER_CLIENT, RawClient, inBatches, sleep } from './client.js';
import {
  USER,
  baseOptions,
  checkServing,
  inProcessGateway,
  port,
  type GatewayUnderTest,
} from './gateway-under-test.js';
import { readGreeting } from './listeners.js';

const GUESSES = 100;
/** Out of 100 simultaneous guesses, how many may reach a password check (today: all 100). */
const MAX_REAL_CHECKS = 20;
/** How long the storm's answers are waited for; throttled attempts may be held longer. */
const STORM_WINDOW_MS = 8000;
/** The real user, from another address, logs in within this (a delay is fine, a lock is not). */
const REAL_USER_WITHIN_MS = 10_000;
/** Failed IMAP logins before the other protocols are tried (more than a throttle's free ones). */
const IMAP_FAILURES = 6;
/** An attempt whose password is not checked within this is throttled (refused or delayed). */
const CHECK_WINDOW_MS = 500;

/** Count password checks per address, leaving the store's own answer as it is. */
function countChecks(gut: GatewayUnderTest): Map<string, number> {
  const counts = new Map<string, number>();
  const accounts = gut.gateway!.store.accounts;
  const verify = accounts.verifyPassword.bind(accounts);
  accounts.verifyPassword = (address: string, password: string) => {
    const key = address.toLowerCase();
    counts.set(key, (counts.get(key) ?? 0) + 1);
    return verify(address, password);
  };
  return counts;
}

async function imapClient(gut: GatewayUnderTest, localAddress = '127.0.0.1'): Promise<RawClient> {
  const c = await RawClient.connect({ port: port(gut, 'imap'), localAddress });
  await readGreeting(c, 'imap');
  return c;
}

const quote = (s: string) => `"${s.replace(/["\\]/g, '\\$&')}"`;

describe('hostile login guesses: the throttle counts attempts in flight, across protocols', function () {
  this.timeout(60_000);
  let gut: GatewayUnderTest;
  let checks: Map<string, number>;
  const checksOf = (user: string) => checks.get(user.toLowerCase()) ?? 0;

  beforeEach(async () => {
    // Room for the 100 connections whatever the per-IP connection cap: the throttle is under test.
    gut = await inProcessGateway(baseOptions({ limits: { maxConnectionsPerIp: 500 } }));
    checks = countChecks(gut);
  });
  afterEach(() => gut.close());

  it('100 simultaneous IMAP LOGINs for one user from one IP get few password checks; the user still logs in from elsewhere', async () => {
    const problems: string[] = [];
    const clients = await inBatches(GUESSES, 25, () => imapClient(gut));
    try {
      const right = GUESSES / 2;
      const answers = clients.map((c, i) => {
        c.write(`g${i} LOGIN ${USER.address} ${quote(i === right ? USER.password : `wrong guess ${i}`)}\r\n`);
        return c.readUntil(new RegExp(`^g${i} `), STORM_WINDOW_MS).then(
          (lines) => lines?.at(-1) ?? 'closed',
          () => 'no answer in the window',
        );
      });
      const settled = await Promise.all(answers);
      const real = checksOf(USER.address);
      if (real > MAX_REAL_CHECKS)
        problems.push(
          `${real} of ${GUESSES} simultaneous guesses were checked (at most ${MAX_REAL_CHECKS}); answers: ` +
            summarize(settled),
        );
    } finally {
      for (const c of clients) c.destroy();
    }
    const c = await imapClient(gut, OTHER_CLIENT);
    try {
      const login = await c
        .command(`r LOGIN ${USER.address} ${quote(USER.password)}`, /^r /, REAL_USER_WITHIN_MS)
        .catch((e: Error) => [`no answer: ${e.message}`]);
      if (!/^r OK/.test(login.at(-1)!))
        problems.push(`the real user, from another address, is refused: ${login.at(-1)}`);
    } finally {
      c.destroy();
    }
    assert.deepEqual(problems, []);
    await checkServing(gut);
  });

  it('failures over IMAP count against POP3 and submission AUTH from the same IP (one budget)', async () => {
    const problems: string[] = [];
    const imap = await imapClient(gut);
    try {
      const deadline = Date.now() + 20_000;
      for (let i = 0; i < IMAP_FAILURES && Date.now() < deadline; i++) {
        const reply = await imap
          .command(`f${i} LOGIN ${USER.address} ${quote(`wrong ${i}`)}`, new RegExp(`^f${i} `), 10_000)
          .catch(() => undefined);
        if (!reply) break; // closed or held: throttled already
      }
    } finally {
      imap.destroy();
    }

    const pop3 = await RawClient.connect({ port: port(gut, 'pop3') });
    try {
      await readGreeting(pop3, 'pop3');
      await pop3.command(`USER ${USER.address}`, /^[+-]/);
      const before = checksOf(USER.address);
      pop3.write('PASS still wrong\r\n');
      await sleep(CHECK_WINDOW_MS);
      if (checksOf(USER.address) - before > 0)
        problems.push(`POP3 PASS was checked at once after ${IMAP_FAILURES} IMAP failures: not throttled`);
    } finally {
      pop3.destroy();
    }

    const smtp = await RawClient.connect({ port: port(gut, 'submission') });
    try {
      await readGreeting(smtp, 'smtp');
      await smtp.command('EHLO attacker.test', /^250 /);
      const before = checksOf(USER.address);
      const plain = Buffer.from(`\0${USER.address}\0still wrong`).toString('base64');
      smtp.write(`AUTH PLAIN ${plain}\r\n`);
      await sleep(CHECK_WINDOW_MS);
      if (checksOf(USER.address) - before > 0)
        problems.push(
          `submission AUTH was checked at once after ${IMAP_FAILURES} IMAP failures: not throttled`,
        );
    } finally {
      smtp.destroy();
    }
    assert.deepEqual(problems, []);
    await checkServing(gut);
  });
});

/** "17× a NO [AUTHENTICATIONFAILED] …, 1× a OK …" */
function summarize(lines: string[]): string {
  const counts = new Map<string, number>();
  for (const l of lines) {
    const k = l.replace(/^g\d+ /, '').slice(0, 60);
    counts.set(k, (counts.get(k) ?? 0) + 1);
  }
  return [...counts].map(([k, n]) => `${n}× ${k}`).join('; ');
}
