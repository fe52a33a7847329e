/**
 * Rate-limited warnings about refused connections: a flood of connections must not become a
 * flood of log lines. One line per address per interval, and at most `maxLinesPerInterval`
 * lines per interval in all (many addresses, e.g. an IPv6 prefix, share that budget); each line
 * says how many refusals were not logged since the last one.
 */
import type { Logger } from '../logging.js';

export interface RefusalLogOptions {
  intervalMs?: number;
  maxLinesPerInterval?: number;
  now?: () => number;
}

interface Entry {
  loggedAt: number;
  suppressed: number;
}

export class RefusalLog {
  private readonly intervalMs: number;
  private readonly maxLines: number;
  private readonly now: () => number;
  private readonly byIp = new Map<string, Entry>();
  private windowStart = 0;
  private linesInWindow = 0;
  /** Refusals not logged because the global budget was spent. */
  private suppressedGlobal = 0;

  constructor(
    private readonly logger: Logger,
    options: RefusalLogOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 60_000;
    this.maxLines = options.maxLinesPerInterval ?? 100;
    this.now = options.now ?? Date.now;
  }

  /** One refused connection; logs at warn unless this address or the budget was logged lately. */
  refused(ip: string, fields: Record<string, unknown>, message: string): void {
    const now = this.now();
    if (now - this.windowStart >= this.intervalMs) {
      this.windowStart = now;
      this.linesInWindow = 0;
      this.prune(now);
    }
    const entry = this.byIp.get(ip);
    if (entry && now - entry.loggedAt < this.intervalMs) {
      entry.suppressed++;
      return;
    }
    if (this.linesInWindow >= this.maxLines) {
      this.suppressedGlobal++;
      return;
    }
    this.linesInWindow++;
    const suppressed = (entry?.suppressed ?? 0) + this.suppressedGlobal;
    this.suppressedGlobal = 0;
    this.byIp.set(ip, { loggedAt: now, suppressed: 0 });
    this.logger.warn({ remote: ip, ...fields, ...(suppressed > 0 ? { suppressed } : {}) }, message);
  }

  /** Forget addresses not refused for an interval: the map stays as small as the flood is now. */
  private prune(now: number): void {
    for (const [ip, entry] of this.byIp) {
      if (now - entry.loggedAt < this.intervalMs) continue;
      this.suppressedGlobal += entry.suppressed;
      this.byIp.delete(ip);
    }
  }
}
