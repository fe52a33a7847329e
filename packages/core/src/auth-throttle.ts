/**
 * The login throttle every protocol shares (one instance per gateway, so IMAP, POP3, SMTP
 * submission, SMTP MX and NNTP spend one budget). It slows an attacker without locking the
 * real user out from elsewhere (DESIGN.md, security stance):
 *
 * - per (user, IP): `freeFailures` failures cost nothing, each further one doubles a delay up to
 *   `maxDelayMs`, and past `lockoutFailures` that pair alone is refused until its window ends;
 * - per IP, across users: the same with higher thresholds (many users may share a NAT address);
 * - per user, across IPs: at most a modest delay (`userMaxDelayMs`), never a refusal, so the
 *   owner logging in from another address still gets in.
 *
 * Attempts are counted while IN FLIGHT: an attempt reserves budget before the password is
 * checked and turns into a failure or a success when the check ends. While a pair still has
 * free budget, as many attempts may run at once as it has left; past it, one at a time (and a
 * few per IP). An attempt over those caps waits for a slot (a success gives the budget back,
 * so a pool of sessions logging in at once all get in), boundedly, or is refused. So a hundred
 * concurrent guesses get at most `lockoutFailures` real checks, a few at a time.
 *
 * A refused attempt never reaches the password check, so its answer cannot tell whether the
 * password was right. Memory is bounded: entries expire with their window, idle entries go at
 * once, and the map is capped at `maxEntries`.
 */

export interface AuthThrottleOptions {
  /** How long failures are remembered, from the first one of a key (default 15 min). */
  windowMs?: number;
  /** Per (user, IP): failures without delay; also how many attempts may run at once (default 5). */
  freeFailures?: number;
  /** Per (user, IP): failures after which that pair is refused until the window ends (default 10). */
  lockoutFailures?: number;
  /** Per IP across users: failures without delay (default 30). */
  ipFreeFailures?: number;
  /** Per IP across users: failures after which the IP is refused until the window ends (default 150). */
  ipLockoutFailures?: number;
  /** Per user across IPs: failures before the modest delay starts (default 10). */
  userFreeFailures?: number;
  /** Per user across IPs: the delay never exceeds this (default 2 s); there is no refusal. */
  userMaxDelayMs?: number;
  /** First delay past a free budget; doubles with each further failure (default 500 ms). */
  baseDelayMs?: number;
  /** Cap of the per-pair and per-IP delays (default 8 s). */
  maxDelayMs?: number;
  /** Attempts in flight from one IP, whatever the users (default 8). */
  maxInFlightPerIp?: number;
  /** How long an attempt over an in-flight cap waits for a slot before it is refused (default 10 s). */
  maxWaitMs?: number;
  /** Attempts waiting for a slot, per IP (default 128); more are refused at once. */
  maxWaitersPerIp?: number;
  /**
   * Attempts waiting for a slot, per (user, IP) (default 64); more are refused at once. A client
   * opening many sessions at once (a pool) waits its turn rather than being refused; the checks
   * a guesser gets stay bounded by `lockoutFailures`, not by this.
   */
  maxWaitersPerPair?: number;
  /** Keys remembered at most (default 100 000). */
  maxEntries?: number;
  /** Clock, for tests. */
  now?: () => number;
  /** Sleep used for the delays, for tests. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * The outcome of one attempt: `accepted` and `rejected` come from a real password check;
 * `refused` means no check was made (the pair or IP is locked, or too many attempts are in
 * flight). Protocols answer `refused` with their temporary failure.
 */
export type AuthVerdict =
  { kind: 'accepted' } | { kind: 'rejected' } | { kind: 'refused'; reason: 'locked' | 'busy' };

interface Entry {
  failures: number;
  /** When the first remembered failure happened; the window runs from here. */
  first: number;
  inFlight: number;
}

interface Waiter {
  pair: string;
  wake: () => void;
}

interface Keys {
  pair: string;
  ip: string;
  user: string;
}

type Gate = { kind: 'go'; delayMs: number } | { kind: 'locked' } | { kind: 'busy' };

const defaultSleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms).unref());

/** Longest user name kept as a key: longer names are cut (they are not valid logins anyway). */
const MAX_USER_KEY = 256;

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly waiters = new Map<string, Set<Waiter>>();
  private readonly windowMs: number;
  private readonly freeFailures: number;
  private readonly lockoutFailures: number;
  private readonly ipFreeFailures: number;
  private readonly ipLockoutFailures: number;
  private readonly userFreeFailures: number;
  private readonly userMaxDelayMs: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly maxInFlightPerIp: number;
  private readonly maxWaitMs: number;
  private readonly maxWaitersPerIp: number;
  private readonly maxWaitersPerPair: number;
  private readonly maxEntries: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: AuthThrottleOptions = {}) {
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.freeFailures = options.freeFailures ?? 5;
    this.lockoutFailures = options.lockoutFailures ?? 10;
    this.ipFreeFailures = options.ipFreeFailures ?? 30;
    this.ipLockoutFailures = options.ipLockoutFailures ?? 150;
    this.userFreeFailures = options.userFreeFailures ?? 10;
    this.userMaxDelayMs = options.userMaxDelayMs ?? 2000;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 8000;
    this.maxInFlightPerIp = Math.max(1, options.maxInFlightPerIp ?? 8);
    this.maxWaitMs = options.maxWaitMs ?? 10_000;
    this.maxWaitersPerIp = options.maxWaitersPerIp ?? 128;
    this.maxWaitersPerPair = options.maxWaitersPerPair ?? 64;
    this.maxEntries = options.maxEntries ?? 100_000;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
  }

  /**
   * Run one login attempt: reserve budget, wait out the delay, run `check` (the real password
   * verification, resolving to whether it was right), and record its outcome. An exception
   * from `check` gives the reservation back without counting a failure and is rethrown.
   */
  async attempt(ip: string, user: string, check: () => Promise<boolean>): Promise<AuthVerdict> {
    const keys = keysFor(ip, user);
    const gate = await this.admit(keys);
    if (gate.kind !== 'go') return { kind: 'refused', reason: gate.kind };
    let ok: boolean;
    try {
      if (gate.delayMs > 0) await this.sleep(gate.delayMs);
      ok = await check();
    } catch (err) {
      this.release(keys, undefined);
      throw err;
    }
    this.release(keys, ok);
    return ok ? { kind: 'accepted' } : { kind: 'rejected' };
  }

  /** Keys currently remembered (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /** Wait (boundedly) until the attempt may go, then reserve its slot. */
  private async admit(keys: Keys): Promise<Gate> {
    const deadline = this.now() + this.maxWaitMs;
    for (;;) {
      const gate = this.gate(keys);
      if (gate.kind !== 'busy') {
        if (gate.kind === 'go') this.reserve(keys);
        return gate;
      }
      const remaining = deadline - this.now();
      if (remaining <= 0 || !this.mayWait(keys)) return gate;
      await this.waitForRelease(keys, remaining);
    }
  }

  /** Whether an attempt may go now, and after what delay. Reads only; reserves nothing. */
  private gate(keys: Keys): Gate {
    const now = this.now();
    const pair = this.entry(keys.pair, now);
    const ip = this.entry(keys.ip, now);
    const user = this.entry(keys.user, now);
    const pairFailures = pair?.failures ?? 0;
    const ipFailures = ip?.failures ?? 0;
    if (pairFailures >= this.lockoutFailures || ipFailures >= this.ipLockoutFailures)
      return { kind: 'locked' };
    // In flight: what is left of the free budget may run at once; past it, one at a time.
    const pairCap = Math.max(1, this.freeFailures - pairFailures);
    const ipCap = Math.min(this.maxInFlightPerIp, Math.max(2, this.ipFreeFailures - ipFailures));
    if ((pair?.inFlight ?? 0) >= pairCap || (ip?.inFlight ?? 0) >= ipCap) return { kind: 'busy' };
    const delayMs = Math.max(
      this.backoff(pairFailures - this.freeFailures, this.maxDelayMs),
      this.backoff(ipFailures - this.ipFreeFailures, this.maxDelayMs),
      this.backoff((user?.failures ?? 0) - this.userFreeFailures, this.userMaxDelayMs),
    );
    return { kind: 'go', delayMs };
  }

  private backoff(over: number, cap: number): number {
    if (over < 0) return 0;
    return Math.min(cap, this.baseDelayMs * 2 ** Math.min(over, 30));
  }

  private reserve(keys: Keys): void {
    const now = this.now();
    for (const key of [keys.pair, keys.ip]) this.touch(key, now).inFlight++;
  }

  /** The attempt ended: `ok` true (right password), false (wrong) or undefined (no verdict). */
  private release(keys: Keys, ok: boolean | undefined): void {
    const now = this.now();
    for (const key of [keys.pair, keys.ip]) {
      const e = this.entries.get(key);
      if (e) e.inFlight = Math.max(0, e.inFlight - 1);
    }
    if (ok === false) {
      for (const key of [keys.pair, keys.ip, keys.user]) {
        const e = this.touch(key, now);
        if (e.failures === 0) e.first = now;
        e.failures++;
      }
    } else if (ok === true) {
      // The owner proved the password: the pair and the user start afresh. The IP's count stays
      // (an attacker may share it).
      for (const key of [keys.pair, keys.user]) {
        const e = this.entries.get(key);
        if (e) e.failures = 0;
      }
    }
    for (const key of [keys.pair, keys.ip, keys.user]) this.dropIfIdle(key);
    if (this.entries.size > this.maxEntries) this.prune(now);
    this.wake(keys.ip);
  }

  /** The live entry of a key, forgetting its failures once its window has passed. */
  private entry(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && e.failures > 0 && now - e.first >= this.windowMs) {
      e.failures = 0;
      if (e.inFlight === 0) {
        this.entries.delete(key);
        return undefined;
      }
    }
    return e;
  }

  private touch(key: string, now: number): Entry {
    let e = this.entry(key, now);
    if (!e) {
      e = { failures: 0, first: now, inFlight: 0 };
      this.entries.set(key, e);
    }
    return e;
  }

  private dropIfIdle(key: string): void {
    const e = this.entries.get(key);
    if (e && e.failures === 0 && e.inFlight === 0) this.entries.delete(key);
  }

  /**
   * Over the cap: drop expired entries, then the oldest idle ones (Map order is insertion
   * order), down to 90 % of the cap. Entries with attempts in flight are kept.
   */
  private prune(now: number): void {
    for (const key of [...this.entries.keys()]) this.entry(key, now);
    const target = Math.floor(this.maxEntries * 0.9);
    for (const [key, e] of this.entries) {
      if (this.entries.size <= target) break;
      if (e.inFlight === 0) this.entries.delete(key);
    }
  }

  /** Whether one more attempt may wait for a slot (few per pair and per IP: waiting is cheap, not free). */
  private mayWait(keys: Keys): boolean {
    const queue = this.waiters.get(keys.ip);
    if (!queue) return true;
    if (queue.size >= this.maxWaitersPerIp) return false;
    let pair = 0;
    for (const w of queue) if (w.pair === keys.pair) pair++;
    return pair < this.maxWaitersPerPair;
  }

  private waitForRelease(keys: Keys, timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      let queue = this.waiters.get(keys.ip);
      if (!queue) this.waiters.set(keys.ip, (queue = new Set()));
      const waiter: Waiter = {
        pair: keys.pair,
        wake: () => {
          clearTimeout(timer);
          const q = this.waiters.get(keys.ip);
          q?.delete(waiter);
          if (q?.size === 0) this.waiters.delete(keys.ip);
          resolve();
        },
      };
      const timer = setTimeout(waiter.wake, timeoutMs);
      timer.unref();
      queue.add(waiter);
    });
  }

  /** A slot of this IP came free: every waiter of the IP looks again (each reserves in turn). */
  private wake(ipKey: string): void {
    const queue = this.waiters.get(ipKey);
    if (queue) for (const w of [...queue]) w.wake();
  }
}

function keysFor(ip: string, user: string): Keys {
  const address = ipKey(ip);
  const name = user.trim().toLowerCase().slice(0, MAX_USER_KEY);
  return { pair: `p ${address} ${name}`, ip: `i ${address}`, user: `u ${name}` };
}

/**
 * The address an attacker is counted by: IPv4 as it is (IPv4-mapped IPv6 shown as IPv4), IPv6
 * by its /64, the smallest prefix a site is usually given (RFC 6177).
 */
export function ipKey(address: string): string {
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!address.includes(':')) return address;
  const bare = address.split('%')[0]!.toLowerCase();
  const [head, tail] = bare.split('::') as [string, string | undefined];
  const left = head === '' ? [] : head.split(':');
  const right = tail === undefined || tail === '' ? [] : tail.split(':');
  const groups =
    tail === undefined
      ? left
      : [...left, ...Array<string>(Math.max(0, 8 - left.length - right.length)).fill('0'), ...right];
  return `${groups
    .slice(0, 4)
    .map((g) => g.replace(/^0+(?=.)/, ''))
    .join(':')}::/64`;
}
