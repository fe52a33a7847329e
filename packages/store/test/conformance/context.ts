/** What every part of the conformance suite shares: the open store(s) and small helpers. */
import { StoreError, type Store } from '../../src/types.js';

export const U = 'ann@example.com';
export const V = 'bob@example.com';

export interface Ctx {
  /** The store under test. */
  s: Store;
  /** A second handle on the same data (another "session"/process); `s` itself when the backend has none. */
  s2: Store;
}

export const msg = (s: string): string => `Subject: ${s}\r\nMessage-ID: <${s}@example.com>\r\n\r\n${s}\r\n`;

/** A predicate for assert.rejects: a StoreError with this code. */
export const code = (c: string) => (e: unknown) => e instanceof StoreError && e.code === c;

/**
 * Collects feed events and waits for a count without timers: mocha's timeout is the only
 * bound, so a slow machine makes the test slower, never wrong.
 */
export function collector<T>() {
  const items: T[] = [];
  let wake: (() => void) | undefined;
  return {
    items,
    push: (c: T) => {
      items.push(c);
      wake?.();
    },
    async until(n: number): Promise<T[]> {
      while (items.length < n) await new Promise<void>((r) => (wake = r));
      return items;
    },
  };
}

/** Either refused with INVALID_NAME, or accepted: what a name-safety check allows. */
export async function refusedOrAccepted<T>(p: Promise<T>): Promise<'refused' | 'accepted'> {
  try {
    await p;
    return 'accepted';
  } catch (e) {
    if (e instanceof StoreError && e.code === 'INVALID_NAME') return 'refused';
    throw e;
  }
}
