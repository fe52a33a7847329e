/**
 * The deadlines of a server channel that silence alone does not measure (the idle timer does
 * that). A command line must be complete within `commandTimeoutMs` of its first octet, however
 * steadily its bytes trickle in; a payload (literal, dot block) of any size must progress by
 * PAYLOAD_MIN_PROGRESS octets, or end, within every `commandTimeoutMs` while its reader keeps
 * up; and a connection must authenticate within `preAuthTimeoutMs` of connecting. Each is one
 * timer, started and stopped by the channel.
 */

/**
 * Octets a payload must advance per `commandTimeoutMs` (1 KiB a minute by default): nothing for
 * a real client on the slowest link, but a trickler now pays for every minute it holds a slot.
 */
export const PAYLOAD_MIN_PROGRESS = 1024;
export interface ReadDeadlineOptions {
  /** A command line must end within this long of its first octet; 0 disables. */
  commandTimeoutMs: number;
  /** Connect to successful authentication; 0 disables. */
  preAuthTimeoutMs: number;
  /** A line has been started and not finished in time. */
  onCommandTimeout: () => void;
  /** The connection did not authenticate in time. */
  onPreAuthTimeout: () => void;
  /** True while the payload's reader is the one holding things up (backpressure). */
  readerPaused: () => boolean;
}

export class ReadDeadlines {
  private commandTimer: NodeJS.Timeout | undefined;
  private preAuthTimer: NodeJS.Timeout | undefined;
  private payloadTimer: NodeJS.Timeout | undefined;
  private payloadProgress = 0;
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

  /** A payload read begins: its first window starts now. */
  payloadStarted(): void {
    this.payloadDone();
    if (this.options.commandTimeoutMs <= 0) return;
    this.payloadProgress = 0;
    this.payloadTimer = setTimeout(this.payloadWindowEnd, this.options.commandTimeoutMs);
    this.payloadTimer.unref();
  }

  /** Octets of the payload arrived. */
  payloadAdvanced(octets: number): void {
    this.payloadProgress += octets;
  }

  /** The payload ended, or its read was abandoned. */
  payloadDone(): void {
    if (this.payloadTimer) clearTimeout(this.payloadTimer);
    this.payloadTimer = undefined;
  }

  private readonly payloadWindowEnd = () => {
    this.payloadTimer = undefined;
    if (this.payloadProgress < PAYLOAD_MIN_PROGRESS && !this.options.readerPaused()) {
      this.options.onCommandTimeout();
      return;
    }
    this.payloadProgress = 0;
    this.payloadTimer = setTimeout(this.payloadWindowEnd, this.options.commandTimeoutMs);
    this.payloadTimer.unref();
  };

  /** The session authenticated: the pre-auth deadline no longer applies. */
  authenticated(): void {
    if (this.preAuthTimer) clearTimeout(this.preAuthTimer);
    this.preAuthTimer = undefined;
  }

  /** The channel closed: no timer outlives it. */
  stop(): void {
    this.lineDone();
    this.payloadDone();
    this.authenticated();
  }
}
