/**
 * The two deadlines of a server channel that silence alone does not measure (the idle timer
 * does that). A command line must be complete within `commandTimeoutMs` of its first octet,
 * however steadily its bytes trickle in; and a connection must authenticate within
 * `preAuthTimeoutMs` of connecting. Each is one timer, started and stopped by the channel.
 */
export interface ReadDeadlineOptions {
  /** A command line must end within this long of its first octet; 0 disables. */
  commandTimeoutMs: number;
  /** Connect to successful authentication; 0 disables. */
  preAuthTimeoutMs: number;
  /** A line has been started and not finished in time. */
  onCommandTimeout: () => void;
  /** The connection did not authenticate in time. */
  onPreAuthTimeout: () => void;
}

export class ReadDeadlines {
  private commandTimer: NodeJS.Timeout | undefined;
  private preAuthTimer: NodeJS.Timeout | undefined;
  private expired = false;

  constructor(private readonly options: ReadDeadlineOptions) {
    if (options.preAuthTimeoutMs > 0) {
      this.preAuthTimer = setTimeout(() => {
        this.preAuthTimer = undefined;
        this.expired = true;
        options.onPreAuthTimeout();
      }, options.preAuthTimeoutMs);
      this.preAuthTimer.unref();
    }
  }

  get commandTimeoutMs(): number {
    return this.options.commandTimeoutMs;
  }

  get preAuthTimeoutMs(): number {
    return this.options.preAuthTimeoutMs;
  }

  /** The pre-auth deadline passed: every read from now on fails. */
  get preAuthExpired(): boolean {
    return this.expired;
  }

  /** The first octet of a command line is here (a no-op while its deadline already runs). */
  lineStarted(): void {
    if (this.commandTimer || this.options.commandTimeoutMs <= 0) return;
    this.commandTimer = setTimeout(() => {
      this.commandTimer = undefined;
      this.options.onCommandTimeout();
    }, this.options.commandTimeoutMs);
    this.commandTimer.unref();
  }

  /** The line ended, or its read was abandoned. */
  lineDone(): void {
    if (this.commandTimer) clearTimeout(this.commandTimer);
    this.commandTimer = undefined;
  }

  /** The session authenticated: the pre-auth deadline no longer applies. */
  authenticated(): void {
    if (this.preAuthTimer) clearTimeout(this.preAuthTimer);
    this.preAuthTimer = undefined;
  }

  /** The channel closed: no timer outlives it. */
  stop(): void {
    this.lineDone();
    this.authenticated();
  }
}
