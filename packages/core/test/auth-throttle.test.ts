/**
 * AuthThrottle (issue 19, item 4): attempts count while in flight; (user, IP) and IP are
 * throttled, a user across addresses is only delayed; the clock and the sleep are injected.
 */
import assert from 'node:assert/strict';
import { AuthThrottle, ipKey, type AuthThrottleOptions } from '../src/auth-throttle.js';

/** A throttle on a fake clock whose sleeps only record their length. */
function fake(options: AuthThrottleOptions = {}) {
  let now = 1_000_000;
  const slept: number[] = [];
  const throttle = new AuthThrottle({
    now: () => now,
    sleep: async (ms) => {
      slept.push(ms);
    },
    ...options,
  });
  return {
    throttle,
    slept,
    advance: (ms: number) => {
      now += ms;
    },
  };
}

const right = async () => true;
const wrong = async () => false;

describe('AuthThrottle', () => {
  it('gives a fresh pair its free failures without delay, then doubles a delay', async () => {
    const { throttle, slept } = fake({
      freeFailures: 3,
      lockoutFailures: 10,
      baseDelayMs: 100,
      maxDelayMs: 250,
    });
    for (let i = 0; i < 6; i++)
      assert.equal((await throttle.attempt('10.0.0.1', 'alice', wrong)).kind, 'rejected');
    assert.deepEqual(slept, [100, 200, 250]);
  });

  it('refuses a pair past its lockout without running the check, and only that pair', async () => {
    const { throttle } = fake({ freeFailures: 1, lockoutFailures: 3, baseDelayMs: 1, maxDelayMs: 1 });
    for (let i = 0; i < 3; i++) await throttle.attempt('10.0.0.1', 'alice', wrong);
    let checked = false;
    const verdict = await throttle.attempt('10.0.0.1', 'alice', async () => (checked = true));
    assert.deepEqual(verdict, { kind: 'refused', reason: 'locked' });
    assert.equal(checked, false, 'a refused attempt never reaches the password check');
    // The owner from another address, and another user from the attacker's address, get in.
    assert.equal((await throttle.attempt('10.0.0.2', 'alice', right)).kind, 'accepted');
    assert.equal((await throttle.attempt('10.0.0.1', 'bob', right)).kind, 'accepted');
  });

  it('forgets a locked pair when its window has passed', async () => {
    const { throttle, advance } = fake({ windowMs: 60_000, freeFailures: 1, lockoutFailures: 2 });
    for (let i = 0; i < 2; i++) await throttle.attempt('10.0.0.1', 'alice', wrong);
    assert.equal((await throttle.attempt('10.0.0.1', 'alice', right)).kind, 'refused');
    advance(60_000);
    assert.equal((await throttle.attempt('10.0.0.1', 'alice', right)).kind, 'accepted');
  });

  it('only delays a user attacked from many addresses, by at most userMaxDelayMs', async () => {
    const { throttle, slept } = fake({ userFreeFailures: 2, userMaxDelayMs: 300, baseDelayMs: 100 });
    for (let i = 0; i < 40; i++) await throttle.attempt(`10.0.1.${i}`, 'alice', wrong);
    slept.length = 0;
    assert.equal((await throttle.attempt('192.0.2.7', 'alice', right)).kind, 'accepted');
    assert.deepEqual(slept, [300]);
    // Success starts the user afresh.
    slept.length = 0;
    await throttle.attempt('192.0.2.8', 'alice', right);
    assert.deepEqual(slept, []);
  });

  it('delays, then refuses, an address guessing across many users, and no other address', async () => {
    const { throttle } = fake({ ipFreeFailures: 5, ipLockoutFailures: 8, baseDelayMs: 1, maxDelayMs: 1 });
    for (let i = 0; i < 8; i++) await throttle.attempt('10.0.0.1', `user${i}`, wrong);
    assert.deepEqual(await throttle.attempt('10.0.0.1', 'carol', right), {
      kind: 'refused',
      reason: 'locked',
    });
    assert.equal((await throttle.attempt('10.0.0.2', 'carol', right)).kind, 'accepted');
  });

  it('counts attempts in flight: 100 concurrent guesses get a handful of checks, a few at a time', async () => {
    const throttle = new AuthThrottle({ freeFailures: 3, lockoutFailures: 6, baseDelayMs: 1, maxDelayMs: 2 });
    let checks = 0;
    let running = 0;
    let most = 0;
    const guess = () =>
      throttle.attempt('10.0.0.1', 'alice', async () => {
        checks++;
        most = Math.max(most, ++running);
        await new Promise((resolve) => setTimeout(resolve, 5));
        running--;
        return false;
      });
    const verdicts = await Promise.all(Array.from({ length: 100 }, guess));
    assert.equal(verdicts.filter((v) => v.kind === 'rejected').length, checks);
    assert.equal(checks, 6, 'the free budget at once, then one at a time up to the lockout');
    assert.equal(most, 3);
    assert.equal(verdicts.filter((v) => v.kind === 'refused').length, 100 - checks);
  });

  it('lets a pool of sessions with the right password all in, the free budget at a time', async () => {
    const throttle = new AuthThrottle({ freeFailures: 5, maxWaitMs: 5000 });
    let running = 0;
    let most = 0;
    const verdicts = await Promise.all(
      Array.from({ length: 40 }, () =>
        throttle.attempt('10.0.0.1', 'alice', async () => {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 2));
          running--;
          return true;
        }),
      ),
    );
    assert.deepEqual(new Set(verdicts.map((v) => v.kind)), new Set(['accepted']));
    assert.ok(most <= 5, `${most} at once`);
  });

  it('caps the attempts in flight from one address across users', async () => {
    const throttle = new AuthThrottle({ maxInFlightPerIp: 4, maxWaitersPerIp: 6, maxWaitMs: 2000 });
    let running = 0;
    let most = 0;
    const verdicts = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        throttle.attempt('10.0.0.1', `user${i}`, async () => {
          most = Math.max(most, ++running);
          await new Promise((resolve) => setTimeout(resolve, 5));
          running--;
          return true;
        }),
      ),
    );
    assert.equal(most, 4);
    assert.equal(verdicts.filter((v) => v.kind === 'accepted').length, 4 + 6, 'the cap, then the waiters');
    assert.equal(verdicts.filter((v) => v.kind === 'refused').length, 30 - 10);
  });

  it('lets a waiting attempt go once the one in flight succeeded', async () => {
    const throttle = new AuthThrottle({ freeFailures: 1, baseDelayMs: 1, maxDelayMs: 1, maxWaitMs: 5000 });
    let release!: () => void;
    const first = throttle.attempt(
      '10.0.0.1',
      'alice',
      () => new Promise<boolean>((r) => (release = () => r(true))),
    );
    const second = throttle.attempt('10.0.0.1', 'alice', right);
    await new Promise((resolve) => setImmediate(resolve));
    release();
    assert.equal((await first).kind, 'accepted');
    assert.equal((await second).kind, 'accepted');
  });

  it('refuses an attempt over the cap as busy when it may not wait', async () => {
    const { throttle } = fake({ freeFailures: 1, maxWaitMs: 0 });
    let release!: () => void;
    const first = throttle.attempt(
      '10.0.0.1',
      'alice',
      () => new Promise<boolean>((r) => (release = () => r(false))),
    );
    assert.deepEqual(await throttle.attempt('10.0.0.1', 'alice', right), { kind: 'refused', reason: 'busy' });
    release();
    assert.equal((await first).kind, 'rejected');
  });

  it('gives the slot back when the check throws, without counting a failure', async () => {
    const { throttle } = fake({ freeFailures: 1, lockoutFailures: 1, maxWaitMs: 0 });
    await assert.rejects(
      throttle.attempt('10.0.0.1', 'alice', async () => {
        throw new Error('store down');
      }),
      /store down/,
    );
    assert.equal((await throttle.attempt('10.0.0.1', 'alice', right)).kind, 'accepted');
    assert.equal(throttle.size, 0, 'nothing kept after a success');
  });

  it('keeps memory bounded: the map is capped and expired entries go', async () => {
    const { throttle, advance } = fake({ maxEntries: 100, windowMs: 1000, ipLockoutFailures: 1e9 });
    for (let i = 0; i < 1000; i++) await throttle.attempt(`10.0.${i >> 8}.${i & 255}`, `u${i}`, wrong);
    assert.ok(throttle.size <= 100, `${throttle.size} entries`);
    advance(1000);
    await throttle.attempt('10.9.9.9', 'x', right);
    for (let i = 0; i < 200; i++) await throttle.attempt('10.9.9.9', `v${i}`, wrong);
    assert.ok(throttle.size <= 100, `${throttle.size} entries`);
  });

  it('treats user names case-insensitively', async () => {
    const { throttle } = fake({ freeFailures: 1, lockoutFailures: 2 });
    await throttle.attempt('10.0.0.1', 'Alice', wrong);
    await throttle.attempt('10.0.0.1', 'ALICE', wrong);
    assert.equal((await throttle.attempt('10.0.0.1', 'alice', right)).kind, 'refused');
  });

  it('counts IPv4-mapped addresses as IPv4 and IPv6 by /64', () => {
    assert.equal(ipKey('::ffff:127.0.0.1'), '127.0.0.1');
    assert.equal(ipKey('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
    assert.equal(ipKey('2001:db8:1:2:bbbb:cccc:dddd:eeee'), '2001:db8:1:2::/64');
    assert.equal(ipKey('2001:db8::1'), '2001:db8:0:0::/64');
    assert.equal(ipKey('::1'), '0:0:0:0::/64');
  });
});
