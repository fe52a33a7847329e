/**
 * The idle timeout of a channel's pending read. Reads come and go several times per command,
 * so one timer serves them all: arming and clearing only move the deadline, and the timer, when
 * it fires, either reports the timeout or sleeps again until the current deadline.
 */
export class IdleTimer {
  private timer: NodeJS.Timeout | undefined;
  /** performance.now() by which the pending read must progress; 0 when no read waits. */
  private deadline = 0;
  /** performance.now() when `timer` fires. */
  private due = 0;

  constructor(private readonly onTimeout: () => void) {}

  /** A read waits from now: it must progress within `ms` (0 or less: no timeout). */
  arm(ms: number): void {
    if (ms <= 0) {
      this.stop();
      return;
    }
    this.deadline = performance.now() + ms;
    // A running timer that fires no later than the new deadline will find it and sleep again.
    if (this.timer && this.due <= this.deadline) return;
    this.start(ms);
  }

  /** No read is waiting: the timer, if running, will find nothing to do. */
  clear(): void {
    this.deadline = 0;
  }

  /** The channel stops reading (closed, failed, upgrading): the timer goes too. */
  stop(): void {
    this.deadline = 0;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private start(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.due = performance.now() + ms;
    this.timer = setTimeout(this.fire, ms);
    this.timer.unref?.();
  }

  private readonly fire = () => {
    this.timer = undefined;
    if (this.deadline === 0) return;
    const left = this.deadline - performance.now();
    if (left >= 1) {
      this.start(left);
      return;
    }
    this.onTimeout();
  };
}
