/**
 * An in-memory Duplex whose packet boundaries the test decides: every `feed()` is one 'data'
 * event on the channel's side, exactly as one TCP segment would be. Written data is collected,
 * and writes can be held (to prove backpressure) until `release()`.
 */
import { Duplex } from 'node:stream';

export class FakeStream extends Duplex {
  readonly written: Buffer[] = [];
  private held: Array<() => void> = [];
  /** When true, write callbacks wait for `release()`: the "socket" is not draining. */
  holdWrites = false;
  /** When set, every write fails with this error (a reset peer). */
  failWrites: Error | undefined;

  constructor(writableHighWaterMark = 16 * 1024) {
    super({ writableHighWaterMark, allowHalfOpen: true });
  }

  /** Deliver one packet to the reader. */
  feed(chunk: string | Buffer): void {
    this.push(typeof chunk === 'string' ? Buffer.from(chunk, 'latin1') : chunk);
  }

  /** The peer's FIN. */
  finish(): void {
    this.push(null);
  }

  /** Let held writes complete, so the writable side drains. */
  release(): void {
    this.holdWrites = false;
    for (const cb of this.held.splice(0)) cb();
  }

  get output(): string {
    return Buffer.concat(this.written).toString('latin1');
  }

  override _read(): void {}

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.failWrites) {
      cb(this.failWrites);
      return;
    }
    this.written.push(chunk);
    if (this.holdWrites) this.held.push(() => cb());
    else cb();
  }
}

/** Resolve after the event loop has gone round once (lets queued 'data' events run). */
export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Wait until `cond()` holds, checking once per event-loop turn. Gives up after `maxTurns`
 * turns (a count, not a clock) so a broken channel fails the test instead of spinning forever.
 */
export async function until(cond: () => boolean, what = 'condition', maxTurns = 200_000): Promise<void> {
  for (let i = 0; !cond(); i++) {
    if (i >= maxTurns) throw new Error(`gave up waiting for ${what}`);
    await tick();
  }
}
