/**
 * A mailbox's live messages, kept as columns (parallel arrays in UID order) rather than one
 * object per message: replaying a 100k-message log then leaves a handful of long-lived
 * arrays instead of 100k objects for the garbage collector to promote, which is most of
 * what opening a big mailbox used to cost. Flag lists are shared (interned) arrays.
 */
import type { MessageMeta } from '../types.js';

export interface MsgEntry {
  uid: number;
  modseq: number;
  size: number;
  internalDate: number;
  flags: string[];
}

export class MessageTable {
  private uids: number[] = [];
  private modseqs: number[] = [];
  private sizes: number[] = [];
  private dates: number[] = [];
  private flagLists: string[][] = [];

  get size(): number {
    return this.uids.length;
  }

  /** Position of `uid`, or -1 (binary search: UIDs are kept ascending). */
  indexOf(uid: number): number {
    const u = this.uids;
    let lo = 0;
    let hi = u.length - 1;
    // Appends are the common case: check the end first.
    if (hi >= 0 && u[hi] === uid) return hi;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const v = u[mid];
      if (v === uid) return mid;
      if (v < uid) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }

  has(uid: number): boolean {
    return this.indexOf(uid) >= 0;
  }

  get(uid: number): MsgEntry | undefined {
    const i = this.indexOf(uid);
    return i < 0 ? undefined : this.at(i);
  }

  at(i: number): MsgEntry {
    return {
      uid: this.uids[i],
      modseq: this.modseqs[i],
      size: this.sizes[i],
      internalDate: this.dates[i],
      flags: this.flagLists[i],
    };
  }

  /** Add or replace; returns false when the UID was already there (a restated frame). */
  put(uid: number, modseq: number, size: number, internalDate: number, flags: string[]): boolean {
    const n = this.uids.length;
    let i = n > 0 && this.uids[n - 1] >= uid ? this.indexOf(uid) : -1;
    if (i >= 0) {
      this.modseqs[i] = modseq;
      this.sizes[i] = size;
      this.dates[i] = internalDate;
      this.flagLists[i] = flags;
      return false;
    }
    if (n === 0 || this.uids[n - 1] < uid) {
      this.uids.push(uid);
      this.modseqs.push(modseq);
      this.sizes.push(size);
      this.dates.push(internalDate);
      this.flagLists.push(flags);
      return true;
    }
    // Out of order (never written by this backend, but keep the columns sorted anyway).
    i = this.uids.findIndex((u) => u > uid);
    this.uids.splice(i, 0, uid);
    this.modseqs.splice(i, 0, modseq);
    this.sizes.splice(i, 0, size);
    this.dates.splice(i, 0, internalDate);
    this.flagLists.splice(i, 0, flags);
    return true;
  }

  setFlags(uid: number, flags: string[], modseq: number): boolean {
    const i = this.indexOf(uid);
    if (i < 0) return false;
    this.flagLists[i] = flags;
    this.modseqs[i] = modseq;
    return true;
  }

  /** Remove the given UIDs; returns those that were present. */
  remove(uids: number[]): number[] {
    const gone = new Set<number>();
    for (const uid of uids) if (this.indexOf(uid) >= 0) gone.add(uid);
    if (gone.size === 0) return [];
    let w = 0;
    for (let r = 0; r < this.uids.length; r++) {
      if (gone.has(this.uids[r])) continue;
      this.uids[w] = this.uids[r];
      this.modseqs[w] = this.modseqs[r];
      this.sizes[w] = this.sizes[r];
      this.dates[w] = this.dates[r];
      this.flagLists[w] = this.flagLists[r];
      w++;
    }
    for (const col of [this.uids, this.modseqs, this.sizes, this.dates, this.flagLists] as unknown[][])
      col.length = w;
    return [...gone].sort((a, b) => a - b);
  }

  keys(): number[] {
    return [...this.uids];
  }

  *values(): IterableIterator<MsgEntry> {
    for (let i = 0; i < this.uids.length; i++) yield this.at(i);
  }

  /** UID → modseq, for telling watchers what a full replay changed. */
  modseqByUid(): Map<number, number> {
    const m = new Map<number, number>();
    for (let i = 0; i < this.uids.length; i++) m.set(this.uids[i], this.modseqs[i]);
    return m;
  }

  countWithout(flag: string): number {
    let n = 0;
    for (const f of this.flagLists) if (!f.includes(flag)) n++;
    return n;
  }

  /** Messages in [start, end], optionally only those changed after `changedSince`. */
  metas(start: number, end: number, changedSince?: number): MessageMeta[] {
    const out: MessageMeta[] = [];
    const u = this.uids;
    let i = 0;
    if (start > 1) {
      // First position with uid >= start.
      let lo = 0;
      let hi = u.length;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (u[mid] < start) lo = mid + 1;
        else hi = mid;
      }
      i = lo;
    }
    for (; i < u.length && u[i] <= end; i++) {
      if (changedSince !== undefined && this.modseqs[i] <= changedSince) continue;
      out.push({
        uid: u[i],
        flags: [...this.flagLists[i]],
        modseq: this.modseqs[i],
        size: this.sizes[i],
        internalDate: new Date(this.dates[i]),
      });
    }
    return out;
  }
}
