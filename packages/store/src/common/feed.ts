/**
 * The in-process change feed (DESIGN.md: "Changes are a feed"). Listeners are called
 * synchronously, in order of publication, so a session sees changes in modseq order. A
 * listener that throws never breaks the write that published nor the other listeners: the
 * write is already done, and one broken session must not hurt the rest.
 */
import type { Unsubscribe } from '../types.js';

export class ChangeFeed<T> {
  private readonly listeners = new Set<(change: T) => void>();

  constructor(private readonly onError: (err: unknown) => void = reportListenerError) {}

  get size(): number {
    return this.listeners.size;
  }

  subscribe(listener: (change: T) => void): Unsubscribe {
    // Wrapped, so one function subscribed twice gets two independent subscriptions.
    const entry = (c: T) => listener(c);
    this.listeners.add(entry);
    return () => void this.listeners.delete(entry);
  }

  publish(change: T): void {
    if (this.listeners.size === 0) return;
    for (const l of [...this.listeners]) {
      try {
        l(change);
      } catch (err) {
        this.onError(err);
      }
    }
  }

  clear(): void {
    this.listeners.clear();
  }
}

function reportListenerError(err: unknown): void {
  process.emitWarning(
    `store change listener failed: ${err instanceof Error ? err.message : String(err)}`,
    'PosternStoreWarning',
  );
}
