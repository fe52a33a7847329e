/**
 * Where a LineChannel payload read (exact length or dot block) sends its pieces: a Readable
 * for stream readers, or a callback sink (`readDotBlockInto`). The channel pumps a piece at a
 * time and stops while `push` says the consumer is full, until the consumer calls it back.
 */
import type { Readable } from 'node:stream';
import type { BlockSink } from './line-channel.js';

export interface PayloadOut {
  /** Hands a piece over; false when the consumer wants no more until it resumes the channel. */
  push(piece: Buffer): boolean;
  /** The payload is complete. */
  end(): void;
  /** The payload failed (size limit, closed channel, timeout). */
  fail(err: Error): void;
  /** The consumer gave up: the rest of the payload is read and dropped. */
  readonly gone: boolean;
}

export class StreamOut implements PayloadOut {
  constructor(readonly stream: Readable) {}

  get gone(): boolean {
    return this.stream.destroyed;
  }

  push(piece: Buffer): boolean {
    return this.stream.push(piece);
  }

  end(): void {
    this.stream.push(null);
  }

  fail(err: Error): void {
    this.stream.destroy(err);
  }
}

/**
 * Pieces to a callback that may be busy (a promise): the sink is never called again before its
 * promise settled, so pieces that come meanwhile wait here, in order. The read's promise
 * settles only once the sink is idle, so the caller never sees it done while a piece is still
 * being taken care of.
 */
export class SinkOut implements PayloadOut {
  gone = false;
  private busy = false;
  private ended = false;
  private error: Error | undefined;
  private waiting: Buffer[] = [];

  constructor(
    private readonly sink: BlockSink,
    private readonly resume: () => void,
    private readonly resolve: () => void,
    private readonly reject: (err: Error) => void,
  ) {}

  push(piece: Buffer): boolean {
    if (this.gone) return true;
    if (this.busy) {
      this.waiting.push(piece);
      return false;
    }
    return this.give(piece);
  }

  end(): void {
    this.ended = true;
    if (!this.busy) this.settle();
  }

  fail(err: Error): void {
    this.gone = true;
    this.error ??= err;
    this.waiting = [];
    if (!this.busy) this.settle();
  }

  /** Returns false while the sink is busy with the piece. */
  private give(piece: Buffer): boolean {
    let busy: Promise<void> | undefined;
    try {
      busy = this.sink(piece);
    } catch (err) {
      this.abandon(err as Error);
      return true;
    }
    if (busy === undefined) return true;
    this.busy = true;
    busy.then(this.idle, (err: Error) => {
      this.busy = false;
      this.abandon(err);
    });
    return false;
  }

  private readonly idle = (): void => {
    this.busy = false;
    while (!this.gone && this.waiting.length > 0) if (!this.give(this.waiting.shift()!)) return;
    if (this.gone || this.ended) this.settle();
    else this.resume();
  };

  /** The sink failed: the caller hears of it now; the channel drops the rest of the block. */
  private abandon(err: Error): void {
    this.fail(err);
    this.resume();
  }

  private settle(): void {
    if (this.error) this.reject(this.error);
    else if (this.ended) this.resolve();
  }
}
