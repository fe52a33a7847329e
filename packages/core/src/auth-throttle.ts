/**
 * Failed-authentication throttle, per client IP and per user: after `freeFailures` failures
 * inside `windowMs`, each further attempt is delayed (doubling up to `maxDelayMs`), and past
 * `lockoutFailures` refused outright until the window passes. Shared by every protocol.
 */
export interface AuthThrottleOptions {
  windowMs?: number;
  freeFailures?: number;
  lockoutFailures?: number;
  baseDelayMs?: number;
  maxDelayMs?: number;
}

interface Entry {
  failures: number;
  first: number;
}

export class AuthThrottle {
  private readonly entries = new Map<string, Entry>();
  private readonly windowMs: number;
  private readonly freeFailures: number;
  private readonly lockoutFailures: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;

  constructor(options: AuthThrottleOptions = {}) {
    this.windowMs = options.windowMs ?? 15 * 60_000;
    this.freeFailures = options.freeFailures ?? 3;
    this.lockoutFailures = options.lockoutFailures ?? 20;
    this.baseDelayMs = options.baseDelayMs ?? 500;
    this.maxDelayMs = options.maxDelayMs ?? 8000;
  }

  private entry(key: string, now: number): Entry | undefined {
    const e = this.entries.get(key);
    if (e && now - e.first > this.windowMs) {
      this.entries.delete(key);
      return undefined;
    }
    return e;
  }

  /** `{ allowed: false }` when locked out; otherwise the delay to apply before answering. */
  check(ip: string, user: string, now = Date.now()): { allowed: boolean; delayMs: number } {
    const failures = Math.max(
      this.entry(`ip:${ip}`, now)?.failures ?? 0,
      this.entry(`user:${user.toLowerCase()}`, now)?.failures ?? 0,
    );
    if (failures >= this.lockoutFailures) return { allowed: false, delayMs: 0 };
    const over = failures - this.freeFailures;
    const delayMs = over < 0 ? 0 : Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** over);
    return { allowed: true, delayMs };
  }

  recordFailure(ip: string, user: string, now = Date.now()): void {
    for (const key of [`ip:${ip}`, `user:${user.toLowerCase()}`]) {
      const e = this.entry(key, now);
      if (e) e.failures++;
      else this.entries.set(key, { failures: 1, first: now });
    }
    if (this.entries.size > 100_000) this.prune(now);
  }

  recordSuccess(ip: string, user: string): void {
    this.entries.delete(`user:${user.toLowerCase()}`);
    void ip;
  }

  private prune(now: number): void {
    for (const [k, e] of this.entries) if (now - e.first > this.windowMs) this.entries.delete(k);
  }
}
