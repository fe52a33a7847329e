/**
 * TLS 1.2 AEAD record protection (RFC 5246 §6.2.3.3) for one direction: AES-GCM with a 4-byte
 * implicit salt and an 8-byte explicit nonce carried in each record (RFC 5288 §3), ChaCha20-
 * Poly1305 with the sequence number XORed into a 12-byte IV and nothing explicit (RFC 7905 §2).
 * The record's real content type stays visible, unlike TLS 1.3.
 */
import type { Aead, CryptoProvider } from '../crypto/provider.js';
import { internalError, misbehaved } from './failures.js';
import { MAX_PLAINTEXT } from './constants.js';
import type { Tls12TrafficKeys } from './prf.js';
import type { Tls12Suite } from './tls12-suites.js';

/** RFC 5246 §6.2.3: TLSCiphertext.length may not exceed 2^14 + 2048. */
export const MAX_CIPHERTEXT_12 = (1 << 14) + 2048;

export class RecordProtection12 {
  private seq = 0n;
  private readonly aead: Aead;

  constructor(
    provider: CryptoProvider,
    private readonly suite: Tls12Suite,
    private readonly keys: Tls12TrafficKeys,
  ) {
    this.aead = provider.aead(suite.aead, keys.key);
  }

  /** RFC 5246 §6.1: the 64-bit sequence number, which must not wrap. */
  private nextSeq(): Uint8Array {
    if (this.seq >= 0xffffffffffffffffn) throw internalError('TLS 1.2 sequence number would wrap');
    const out = new Uint8Array(8);
    new DataView(out.buffer).setBigUint64(0, this.seq++);
    return out;
  }

  /** GCM: salt || nonce_explicit; ChaCha20: IV XOR (0^32 || seq_num). */
  private nonce(seq: Uint8Array, explicit: Uint8Array): Uint8Array {
    if (this.suite.explicitNonceLength === 0) {
      const nonce = Uint8Array.from(this.keys.iv);
      for (let i = 0; i < 8; i++) nonce[4 + i]! ^= seq[i]!;
      return nonce;
    }
    const nonce = new Uint8Array(12);
    nonce.set(this.keys.iv, 0);
    nonce.set(explicit, 4);
    return nonce;
  }

  /** RFC 5246 §6.2.3.3: additional_data = seq_num + type + version + length (of the plaintext). */
  private static aad(seq: Uint8Array, type: number, length: number): Uint8Array {
    const aad = new Uint8Array(13);
    aad.set(seq, 0);
    aad[8] = type;
    aad[9] = 3;
    aad[10] = 3;
    aad[11] = length >> 8;
    aad[12] = length & 0xff;
    return aad;
  }

  /** One whole protected record, header included. */
  seal(type: number, fragment: Uint8Array): Uint8Array {
    const seq = this.nextSeq();
    // The explicit nonce is the sequence number: unique per key, as RFC 5288 §3 requires.
    const explicit = this.suite.explicitNonceLength ? seq : new Uint8Array(0);
    const sealed = this.aead.seal(
      this.nonce(seq, explicit),
      RecordProtection12.aad(seq, type, fragment.length),
      fragment,
    );
    const length = explicit.length + sealed.length;
    const out = new Uint8Array(5 + length);
    out[0] = type;
    out[1] = 3;
    out[2] = 3;
    out[3] = length >> 8;
    out[4] = length & 0xff;
    out.set(explicit, 5);
    out.set(sealed, 5 + explicit.length);
    return out;
  }

  /**
   * `seal`, appended to `out` as chunks (header with the explicit nonce, ciphertext, tag) that are
   * not copied together, when the AEAD can; otherwise as one chunk.
   */
  sealTo(type: number, fragment: Uint8Array, out: Uint8Array[]): void {
    if (!this.aead.sealTo) {
      out.push(this.seal(type, fragment));
      return;
    }
    const seq = this.nextSeq();
    const explicitLength = this.suite.explicitNonceLength;
    const length = explicitLength + fragment.length + this.aead.tagLength;
    const head = new Uint8Array(5 + explicitLength);
    head[0] = type;
    head[1] = 3;
    head[2] = 3;
    head[3] = length >> 8;
    head[4] = length & 0xff;
    // The explicit nonce is the sequence number, as in `seal`.
    if (explicitLength) head.set(seq, 5);
    const explicit = head.subarray(5);
    out.push(head);
    this.aead.sealTo(
      this.nonce(seq, explicit),
      RecordProtection12.aad(seq, type, fragment.length),
      [fragment],
      out,
    );
  }

  /** The plaintext of a protected record; bad_record_mac when it does not authenticate. */
  open(type: number, body: Uint8Array): Uint8Array {
    const seq = this.nextSeq();
    const explicitLength = this.suite.explicitNonceLength;
    if (body.length < explicitLength + this.aead.tagLength)
      throw misbehaved('badRecordMac', 'protected record too short');
    if (body.length > MAX_CIPHERTEXT_12)
      throw misbehaved('recordOverflow', `protected record of ${body.length} bytes`);
    const explicit = body.subarray(0, explicitLength);
    const sealed = body.subarray(explicitLength);
    const plainLength = sealed.length - this.aead.tagLength;
    const plain = this.aead.open(
      this.nonce(seq, explicit),
      RecordProtection12.aad(seq, type, plainLength),
      sealed,
    );
    if (!plain) throw misbehaved('badRecordMac', 'record authentication failed');
    // RFC 5246 §6.2.3: the plaintext limit holds after decryption too.
    if (plain.length > MAX_PLAINTEXT)
      throw misbehaved('recordOverflow', `plaintext of ${plain.length} bytes`);
    return plain;
  }
}
