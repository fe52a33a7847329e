/** When to try again after a temporary failure, and when to give up. */
export interface RetrySchedule {
  /** Delays between attempts, in ms; the last repeats. */
  delaysMs: number[];
  /** Give up (and bounce) once an item is older than this. Default 5 days. */
  maxAgeMs: number;
}

export const DEFAULT_RETRY_SCHEDULE: RetrySchedule = {
  delaysMs: [60_000, 5 * 60_000, 15 * 60_000, 30 * 60_000, 60 * 60_000, 2 * 60 * 60_000, 4 * 60 * 60_000],
  maxAgeMs: 5 * 24 * 60 * 60_000,
};

/** Next attempt after `attempts` failures, or undefined when the item has been retried long enough. */
export function nextAttempt(
  schedule: RetrySchedule,
  attempts: number,
  createdAt: Date,
  now: Date,
): Date | undefined {
  const i = Math.min(Math.max(attempts - 1, 0), schedule.delaysMs.length - 1);
  const at = new Date(now.getTime() + schedule.delaysMs[i]!);
  return at.getTime() - createdAt.getTime() > schedule.maxAgeMs ? undefined : at;
}
