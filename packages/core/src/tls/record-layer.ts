/**
 * Record layer (RFC 8446 §5): deframing with size caps, AEAD protection with the TLS 1.3 inner
 * content type and padding, per-direction sequence numbers and nonces (§5.3).
 */
import type { Aead, CryptoProvider } from '../crypto/provider.js';
import { invalidMessage, misbehaved, unexpectedMessage } from './failures.js';
import type { CipherSuite } from './constants.js';
import { ContentType, MAX_CIPHERTEXT, MAX_PLAINTEXT } from './constants.js';
import type { TrafficKeys } from './key-schedule.js';
import { MAX_CIPHERTEXT_12, type RecordProtection12 } from './record-protection12.js';

export interface PlainRecord {
  readonly type: number;
  readonly version: number;
  readonly body: Uint8Array;
}

/**
 * Fragments of at least this many bytes go out as separate header, ciphertext and tag chunks
 * when the caller gathers them: saving a copy of the record outweighs two more chunks to write.
 */
const GATHER_MIN_FRAGMENT = 2048;

/** The one-byte inner content type of TLS 1.3 (§5.2), shared, never written to. */
const INNER_TYPE: readonly Uint8Array[] = Array.from({ length: 256 }, (_, t) => Uint8Array.of(t));

class DirectionState {
  private seq = 0;
  constructor(
    private readonly aead: Aead,
    private readonly iv: Uint8Array,
  ) {}

  /** §5.3: the 64-bit sequence number, left-padded, XORed into the static IV. */
  nextNonce(): Uint8Array {
    const nonce = Uint8Array.from(this.iv);
    const seq = this.seq++;
    const hi = Math.floor(seq / 0x100000000);
    const lo = seq >>> 0;
    nonce[4] ^= hi >>> 24;
    nonce[5] ^= (hi >>> 16) & 0xff;
    nonce[6] ^= (hi >>> 8) & 0xff;
    nonce[7] ^= hi & 0xff;
    nonce[8] ^= lo >>> 24;
    nonce[9] ^= (lo >>> 16) & 0xff;
    nonce[10] ^= (lo >>> 8) & 0xff;
    nonce[11] ^= lo & 0xff;
    return nonce;
  }
  seal(aad: Uint8Array, inner: Uint8Array): Uint8Array {
    return this.aead.seal(this.nextNonce(), aad, inner);
  }
  /** The whole protected record (header included), in one allocation where the AEAD allows. */
  sealRecord(header: Uint8Array, fragment: Uint8Array, type: number): Uint8Array {
    // TLSInnerPlaintext (§5.2) built by one copy, sealed by one AEAD update: on the small records
    // sealed whole (large application data goes through sealRecordTo), a second crossing into
    // the AEAD for the type byte costs more than the copy.
    const inner = new Uint8Array(fragment.length + 1);
    inner.set(fragment, 0);
    inner[fragment.length] = type;
    if (this.aead.sealWithHeader) return this.aead.sealWithHeader(this.nextNonce(), header, [inner]);
    const sealed = this.seal(header, inner);
    const out = new Uint8Array(5 + sealed.length);
    out.set(header, 0);
    out.set(sealed, 5);
    return out;
  }
  /** The protected record appended to `out` as chunks (header, ciphertext, tag), not copied together. */
  sealRecordTo(header: Uint8Array, fragment: Uint8Array, type: number, out: Uint8Array[]): void {
    if (!this.aead.sealTo) {
      out.push(this.sealRecord(header, fragment, type));
      return;
    }
    out.push(header);
    this.aead.sealTo(this.nextNonce(), header, [fragment, INNER_TYPE[type]!], out);
  }
  open(aad: Uint8Array, body: Uint8Array): Uint8Array | null {
    return this.aead.open(this.nextNonce(), aad, body);
  }
}

export class RecordLayer {
  /**
   * Received bytes not yet framed: the chunks as they came, read from `offset` in the first. A
   * record lying within one chunk is handed out as a view of it; only a record split across
   * chunks is copied, once, when it is complete (re-merging the unframed rest on every push
   * would copy a record once per chunk: quadratic in the number of chunks).
   */
  private chunks: Uint8Array[] = [];
  /** Index of the first unconsumed chunk (consumed ones are dropped in batches, not shifted). */
  private head = 0;
  private offset = 0;
  private buffered = 0;
  private reader: DirectionState | undefined;
  private writer: DirectionState | undefined;
  /** Largest plaintext fragment we emit (RFC 8449 record_size_limit would lower it). */
  maxFragment = MAX_PLAINTEXT;
  /**
   * legacy_record_version of unprotected records: 0x0303, except that an initial ClientHello
   * may say 0x0301 for old middleboxes (RFC 8446 §5.1), as most clients do.
   */
  plaintextVersion = 0x0303;

  constructor(private readonly provider: CryptoProvider) {}

  get bufferedBytes(): number {
    return this.buffered;
  }
  get isReadProtected(): boolean {
    return this.reader !== undefined || this.reader12 !== undefined;
  }
  get isWriteProtected(): boolean {
    return this.writer !== undefined || this.writer12 !== undefined;
  }

  // ---- TLS 1.2 hook (RFC 5246 §6.2.3.3): record-protection12.ts protects, this class frames ----
  private reader12: RecordProtection12 | undefined;
  private writer12: RecordProtection12 | undefined;
  setProtection12(direction: 'read' | 'write', protection: RecordProtection12): void {
    if (direction === 'read') this.reader12 = protection;
    else this.writer12 = protection;
  }
  /** Once TLS 1.2 is negotiated, the only record version the peer may send (RFC 5246 §6.2.1). */
  pinnedVersion: number | undefined;
  // ---- end of the TLS 1.2 hook ----

  setReadKeys(suite: CipherSuite, keys: TrafficKeys): void {
    this.reader = new DirectionState(this.provider.aead(suite.aead, keys.key), keys.iv);
  }
  setWriteKeys(suite: CipherSuite, keys: TrafficKeys): void {
    this.writer = new DirectionState(this.provider.aead(suite.aead, keys.key), keys.iv);
  }

  push(data: Uint8Array): void {
    if (data.length === 0) return;
    this.chunks.push(data);
    this.buffered += data.length;
  }

  /** The unframed byte at position `i` (< bufferedBytes). */
  private peek(i: number): number {
    let k = this.head;
    let at = this.offset + i;
    while (at >= this.chunks[k]!.length) at -= this.chunks[k++]!.length;
    return this.chunks[k]![at]!;
  }

  /** Done with the first chunk. */
  private dropChunk(): void {
    this.offset = 0;
    if (++this.head === this.chunks.length) {
      this.chunks = [];
      this.head = 0;
    } else if (this.head >= 64 && this.head * 2 >= this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
  }

  /** Consume `n` unframed bytes; the view of them, copied only when they span chunks. */
  private take(n: number): Uint8Array {
    const first = this.chunks[this.head]!;
    const o = this.offset;
    this.buffered -= n;
    if (first.length - o > n) {
      this.offset = o + n;
      return first.subarray(o, o + n);
    }
    if (first.length - o === n) {
      this.dropChunk();
      return first.subarray(o);
    }
    const out = new Uint8Array(n);
    let filled = 0;
    while (filled < n) {
      const c = this.chunks[this.head]!;
      const m = Math.min(c.length - this.offset, n - filled);
      out.set(c.subarray(this.offset, this.offset + m), filled);
      filled += m;
      if (this.offset + m === c.length) this.dropChunk();
      else this.offset += m;
    }
    return out;
  }

  /** The next complete record, or undefined when more bytes are needed. */
  nextRecord(): PlainRecord | undefined {
    const avail = this.buffered;
    if (avail < 5) {
      if (avail > 0) this.checkHeaderPrefix(avail);
      return undefined;
    }
    let type: number, v0: number, v1: number, l0: number, l1: number;
    const b = this.chunks[this.head]!;
    const o = this.offset;
    if (b.length - o >= 5) {
      type = b[o]!;
      v0 = b[o + 1]!;
      v1 = b[o + 2]!;
      l0 = b[o + 3]!;
      l1 = b[o + 4]!;
    } else {
      type = this.peek(0);
      v0 = this.peek(1);
      v1 = this.peek(2);
      l0 = this.peek(3);
      l1 = this.peek(4);
    }
    const version = (v0 << 8) | v1;
    const length = (l0 << 8) | l1;
    this.checkType(type);
    // §5.1: legacy_record_version is 0x0303, except 0x0301 (or older) on an initial ClientHello;
    // anything not 0x03xx is not TLS at all.
    if (v0 !== 3) throw invalidMessage(`record version 0x${version.toString(16)} is not TLS`);
    // TLS 1.3 ignores legacy_record_version (§5.1); TLS 1.2 peers send the negotiated one.
    if (this.pinnedVersion !== undefined && version !== this.pinnedVersion) {
      throw misbehaved(
        'recordVersionChanged',
        `record version 0x${version.toString(16)} after TLS 1.2 was negotiated`,
      );
    }
    if (length > (this.reader ? MAX_CIPHERTEXT : this.reader12 ? MAX_CIPHERTEXT_12 : MAX_PLAINTEXT)) {
      throw misbehaved('recordOverflow', `record of ${length} bytes`);
    }
    if (avail < 5 + length) return undefined;
    const body = this.take(5 + length).subarray(5);
    return { type, version, body };
  }

  /** Reject garbage as soon as the first byte shows it, rather than waiting for 5 bytes. */
  private checkHeaderPrefix(avail: number): void {
    this.checkType(this.peek(0));
    if (avail >= 2 && this.peek(1) !== 3) throw invalidMessage('record is not TLS');
  }

  private checkType(type: number): void {
    if (type < ContentType.change_cipher_spec || type > ContentType.application_data) {
      throw unexpectedMessage(`record content type ${type}`);
    }
  }

  /**
   * §5.2: decrypt an application_data record into (inner type, content); padding zeros stripped.
   * Called only when read keys are set.
   */
  unprotect(record: PlainRecord): { type: number; content: Uint8Array } {
    // TLS 1.2 hook: the outer type is the real one (RFC 5246 §6.2.3.3).
    if (this.reader12) return { type: record.type, content: this.reader12.open(record.type, record.body) };
    const reader = this.reader!;
    if (record.type !== ContentType.application_data) {
      throw unexpectedMessage(`unprotected record of type ${record.type} after keys changed`);
    }
    const aad = Uint8Array.of(
      ContentType.application_data,
      3,
      3,
      record.body.length >> 8,
      record.body.length & 0xff,
    );
    const inner = reader.open(aad, record.body);
    if (!inner) throw misbehaved('badRecordMac', 'record authentication failed');
    if (inner.length > MAX_PLAINTEXT + 1)
      throw misbehaved('recordOverflow', `inner plaintext of ${inner.length} bytes`);
    let end = inner.length - 1;
    while (end >= 0 && inner[end] === 0) end--;
    if (end < 0) throw unexpectedMessage('inner plaintext has no content type');
    return { type: inner[end], content: inner.subarray(0, end) };
  }

  /** Frame `content` of `type` into records (protected once write keys are set). */
  protect(type: number, content: Uint8Array, out: Uint8Array[]): void {
    let off = 0;
    do {
      const n = Math.min(this.maxFragment, content.length - off);
      out.push(this.record(type, content.subarray(off, off + n)));
      off += n;
    } while (off < content.length);
  }

  /**
   * Protect one fragment (at most `maxFragment` bytes) of `type` and append it to `out`, as one
   * chunk or, for a large fragment, as several chunks whose concatenation is the record: for a
   * writer that gathers chunks into one write, not for callers that need whole records.
   */
  protectGathered(type: number, fragment: Uint8Array, out: Uint8Array[]): void {
    if (fragment.length < GATHER_MIN_FRAGMENT || fragment.length > this.maxFragment)
      return this.protect(type, fragment, out);
    if (this.writer12) return this.writer12.sealTo(type, fragment, out); // TLS 1.2 hook
    if (!this.writer) return this.protect(type, fragment, out);
    this.writer.sealRecordTo(this.protectedHeader(fragment.length), fragment, type, out);
  }

  /** §5.2: the outer header of a protected record: application_data, 0x0303, the length. */
  private protectedHeader(fragmentLength: number): Uint8Array {
    const len = fragmentLength + 1 + 16;
    return Uint8Array.of(ContentType.application_data, 3, 3, len >> 8, len & 0xff);
  }

  private record(type: number, fragment: Uint8Array): Uint8Array {
    if (this.writer12) return this.writer12.seal(type, fragment); // TLS 1.2 hook
    if (!this.writer) {
      const out = new Uint8Array(5 + fragment.length);
      out[0] = type;
      out[1] = this.plaintextVersion >> 8;
      out[2] = this.plaintextVersion & 0xff;
      out[3] = fragment.length >> 8;
      out[4] = fragment.length & 0xff;
      out.set(fragment, 5);
      return out;
    }
    return this.writer.sealRecord(this.protectedHeader(fragment.length), fragment, type);
  }
}
