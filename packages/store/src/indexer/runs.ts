/**
 * Bytes gathered from the scanner's input without copying them: views into the input
 * chunks, adjacent ranges merged into one view. `detach()` copies what is still a view when
 * a chunk may not outlive the scanner's `write()` call.
 */
export class ByteRuns {
  /** Finished views, and from `owned` on the ones that are still into the caller's chunks. */
  private views: Uint8Array[] = [];
  private owned = 0;
  /** The run being extended: [runStart, runEnd) of runBuffer. */
  private runBuffer: ArrayBufferLike | null = null;
  private runStart = 0;
  private runEnd = 0;
  /** Bytes added so far. */
  length = 0;

  add(buf: Uint8Array, start: number, end: number): void {
    if (end <= start) return;
    this.length += end - start;
    const from = buf.byteOffset + start;
    if (this.runBuffer === buf.buffer && this.runEnd === from) {
      this.runEnd = buf.byteOffset + end;
      return;
    }
    this.closeRun();
    this.runBuffer = buf.buffer;
    this.runStart = from;
    this.runEnd = buf.byteOffset + end;
  }

  private closeRun(): void {
    if (this.runBuffer === null) return;
    this.views.push(new Uint8Array(this.runBuffer, this.runStart, this.runEnd - this.runStart));
    this.runBuffer = null;
  }

  detach(): void {
    this.closeRun();
    const views = this.views;
    for (let i = this.owned; i < views.length; i++) views[i] = views[i]!.slice();
    this.owned = views.length;
  }

  /** Whether take() will hand out a private copy (one the caller may overwrite). */
  get ownsBytes(): boolean {
    this.closeRun();
    return this.views.length !== 1 || this.owned === 1;
  }

  /** All the bytes, as one array (a view when they are one run); the runs are emptied. */
  take(): Buffer {
    this.closeRun();
    const views = this.views;
    this.views = [];
    this.owned = 0;
    this.length = 0;
    if (views.length === 1) {
      const v = views[0]!;
      return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
    }
    return Buffer.concat(views);
  }
}
