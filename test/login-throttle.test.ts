/**
 * Issue 19, item 4, against a live gateway over real sockets: the login throttle counts
 * attempts in flight, throttles by (user, IP) and by IP without locking the owner out from
 * elsewhere, and is ONE budget for IMAP, POP3, NNTP, submission and MX AUTH.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { AuthThrottle } from '@postern/core';
import { startGateway, type Gateway } from '@postern/server';

const ALICE = { address: 'alice@example.test', password: 'correct horse battery' };
const BOB = { address: 'bob@example.test', password: 'b0b-Secret!' };

/** A line client for server-speaks-first protocols, bounded in time. */
class LineClient {
  private buffer = '';
  private waiting: (() => void) | undefined;
  private ended = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('latin1');
    socket.on('data', (d: string) => {
      this.buffer += d;
      this.waiting?.();
    });
    socket.on('close', () => {
      this.ended = true;
      this.waiting?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number, localAddress = '127.0.0.1'): Promise<LineClient> {
    return new Promise((resolve, reject) => {
      const s = connect({ host: '127.0.0.1', port, localAddress }, () => resolve(new LineClient(s)));
      s.once('error', reject);
    });
  }

  async line(timeoutMs = 15_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const i = this.buffer.indexOf('\r\n');
      if (i !== -1) {
        const line = this.buffer.slice(0, i);
        this.buffer = this.buffer.slice(i + 2);
        return line;
      }
      if (this.ended) return '';
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('no reply in time');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiting = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  send(text: string): void {
    this.socket.write(text + '\r\n');
  }

  /** Lines until one matching `last` (inclusive); returns the last one. */
  async until(last: RegExp): Promise<string> {
    for (;;) {
      const l = await this.line();
      if (l === '' || last.test(l)) return l;
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

const plain = (user: string, password: string) => Buffer.from(`\0${user}\0${password}`).toString('base64');

/** One login per protocol; resolves to the final reply line. */
const login = {
  async imap(gw: Gateway, user: string, password: string, from?: string): Promise<string> {
    const c = await LineClient.open(gw.ports.imap!, from);
    try {
      const greeting = await c.line();
      if (!greeting.startsWith('* OK')) return greeting;
      c.send(`a LOGIN "${user}" "${password}"`);
      return await c.until(/^a /);
    } finally {
      c.close();
    }
  },
  async pop3(gw: Gateway, user: string, password: string, from?: string): Promise<string> {
    const c = await LineClient.open(gw.ports.pop3!, from);
    try {
      await c.line();
      c.send(`USER ${user}`);
      await c.line();
      c.send(`PASS ${password}`);
      return await c.line();
    } finally {
      c.close();
    }
  },
  async smtp(port: number, user: string, password: string, from?: string): Promise<string> {
    const c = await LineClient.open(port, from);
    try {
      const greeting = await c.line();
      if (!greeting.startsWith('220')) return greeting; // a connection cap's 421
      c.send('EHLO client.example.net');
      await c.until(/^250 /);
      c.send(`AUTH PLAIN ${plain(user, password)}`);
      return await c.line();
    } finally {
      c.close();
    }
  },
  async nntp(gw: Gateway, user: string, password: string, from?: string): Promise<string> {
    const c = await LineClient.open(gw.ports.nntp!, from);
    try {
      await c.line();
      c.send(`AUTHINFO USER ${user}`);
      await c.line();
      c.send(`AUTHINFO PASS ${password}`);
      return await c.line();
    } finally {
      c.close();
    }
  },
};

describe('login throttle across the gateway (issue 19, item 4)', function () {
  this.timeout(60_000);
  let gw: Gateway | undefined;
  let checks = 0;

  let running = 0;
  let mostAtOnce = 0;

  async function start(throttle: AuthThrottle): Promise<Gateway> {
    gw = await startGateway({
      store: 'memory',
      domains: ['example.test'],
      users: [ALICE, BOB],
      relay: 'capture',
      // Plaintext logins keep these clients short; TLS has nothing to do with the throttle.
      allowInsecureAuth: true,
      authThrottle: throttle,
      // 100 clients from one address exceed the per-IP connection cap (50): that cap is
      // pinned elsewhere; here every client must reach the login throttle.
      limits: { maxConnectionsPerIp: 200 },
    });
    // Count the real password checks, and how many ran at once.
    const accounts = gw.store.accounts;
    const verify = accounts.verifyPassword.bind(accounts);
    checks = running = mostAtOnce = 0;
    accounts.verifyPassword = async (user: string, password: string) => {
      checks++;
      mostAtOnce = Math.max(mostAtOnce, ++running);
      try {
        return await verify(user, password);
      } finally {
        running--;
      }
    };
    return gw;
  }

  afterEach(async () => {
    await gw?.close();
    gw = undefined;
  });

  it('100 concurrent IMAP LOGINs for one user from one address get a handful of real checks', async () => {
    // 3 free failures may run at once; past them one at a time, with a delay, and the pair is
    // refused after 6 failures in all.
    const g = await start(
      new AuthThrottle({
        freeFailures: 3,
        lockoutFailures: 6,
        baseDelayMs: 5,
        maxDelayMs: 20,
        maxWaitMs: 5000,
      }),
    );
    const replies = await Promise.all(
      Array.from({ length: 100 }, (_, i) =>
        login.imap(g, ALICE.address, `guess ${i}`).catch((e: Error) => e.message),
      ),
    );
    const failed = replies.filter((r) => /^a NO \[AUTHENTICATIONFAILED\]/.test(r)).length;
    const throttled = replies.filter((r) => /^a NO \[UNAVAILABLE\]/.test(r)).length;
    assert.ok(checks <= 6, `${checks} real password checks for 100 concurrent LOGINs`);
    assert.ok(mostAtOnce <= 3, `${mostAtOnce} checks ran at once`);
    assert.equal(failed, checks);
    // Everything else was answered as a temporary failure (or refused by a connection cap).
    assert.ok(throttled >= 100 - checks - 10, `${throttled} throttled: ${[...new Set(replies)].join(' | ')}`);
    // The owner is not locked out: from another address they get in at once.
    assert.match(await login.imap(g, ALICE.address, ALICE.password, '127.0.0.2'), /^a OK/);
  });

  it('POP3, submission and NNTP alike: 50 concurrent logins for one user get a handful of checks', async () => {
    for (const proto of ['pop3', 'submission', 'nntp'] as const) {
      const g = await start(
        new AuthThrottle({
          freeFailures: 3,
          lockoutFailures: 6,
          baseDelayMs: 5,
          maxDelayMs: 20,
          maxWaitMs: 5000,
        }),
      );
      const one = (i: number) =>
        proto === 'pop3'
          ? login.pop3(g, ALICE.address, `guess ${i}`)
          : proto === 'nntp'
            ? login.nntp(g, ALICE.address, `guess ${i}`)
            : login.smtp(g.ports.submission!, ALICE.address, `guess ${i}`);
      const replies = await Promise.all(
        Array.from({ length: 50 }, (_, i) => one(i).catch((e: Error) => e.message)),
      );
      assert.ok(checks <= 6, `${proto}: ${checks} real checks`);
      assert.ok(mostAtOnce <= 3, `${proto}: ${mostAtOnce} checks at once`);
      // Every other answer is a temporary failure: the throttle's, or a connection cap's.
      const wrong = replies.filter((r) => /^(-ERR \[AUTH\]|535 |481 )/.test(r)).length;
      assert.equal(wrong, checks, `${proto}: ${[...new Set(replies)].join(' | ')}`);
      for (const r of replies)
        assert.match(r, /^(-ERR|535 |481 |454 4\.7\.0 |421 |403 |400 |$)/, `${proto}: ${r}`);
      await g.close();
      gw = undefined;
    }
  });

  it('after a brute force from 127.0.0.1 the owner logs in from 127.0.0.2, and bob from 127.0.0.1', async () => {
    const g = await start(
      new AuthThrottle({ freeFailures: 2, lockoutFailures: 4, baseDelayMs: 1, maxDelayMs: 2 }),
    );
    for (let i = 0; i < 4; i++) {
      assert.match(await login.imap(g, ALICE.address, `guess ${i}`), /^a NO \[AUTHENTICATIONFAILED\]/);
    }
    // The guessing pair is refused without a check, whatever the password.
    const before = checks;
    assert.match(await login.imap(g, ALICE.address, ALICE.password), /^a NO \[UNAVAILABLE\]/);
    assert.equal(checks, before, 'a refused attempt is never checked');
    assert.match(await login.imap(g, ALICE.address, ALICE.password, '127.0.0.2'), /^a OK/);
    assert.match(await login.imap(g, BOB.address, BOB.password), /^a OK/);
  });

  it('one budget: failures spent over IMAP limit POP3, NNTP, submission and MX AUTH for the same pair', async () => {
    const g = await start(
      new AuthThrottle({ freeFailures: 2, lockoutFailures: 3, baseDelayMs: 1, maxDelayMs: 2 }),
    );
    for (let i = 0; i < 3; i++) {
      assert.match(await login.imap(g, ALICE.address, `guess ${i}`), /^a NO \[AUTHENTICATIONFAILED\]/);
    }
    const before = checks;
    assert.match(await login.pop3(g, ALICE.address, ALICE.password), /^-ERR \[SYS\/TEMP\]/);
    assert.match(await login.nntp(g, ALICE.address, ALICE.password), /^403 /);
    assert.match(await login.smtp(g.ports.submission!, ALICE.address, ALICE.password), /^454 4\.7\.0 /);
    assert.match(await login.smtp(g.ports.smtp!, ALICE.address, ALICE.password), /^454 4\.7\.0 /);
    assert.equal(checks, before, 'no listener checked the password');
    // From another address every listener lets the owner in.
    assert.match(await login.pop3(g, ALICE.address, ALICE.password, '127.0.0.2'), /^\+OK/);
    assert.match(await login.nntp(g, ALICE.address, ALICE.password, '127.0.0.2'), /^281 /);
    assert.match(await login.smtp(g.ports.smtp!, ALICE.address, ALICE.password, '127.0.0.2'), /^235 /);
  });
});
