/**
 * What the server and client handshake state machines share: the transcript hash, the narrow
 * I/O surface they drive (no sockets: they hand messages and key changes to the connection),
 * and the result a completed handshake yields.
 */
import type { CryptoProvider, HashName, IncrementalHash, NamedGroup } from '../crypto/provider.js';
import type { CipherSuite } from './constants.js';
import { HandshakeType } from './constants.js';
import { encodeHandshake } from './messages.js';
import type { Extension } from './messages.js';
import type { KeySchedule } from './key-schedule.js';
import type { TlsVersion } from './engine.js';
import type { RecordProtection12 } from './record-protection12.js';

/** One reassembled handshake message: its type, body and the full encoding (for the transcript). */
export interface HandshakeMessage {
  readonly type: number;
  readonly body: Uint8Array;
  readonly raw: Uint8Array;
}

/** Which message an extension hook is asked about. */
export type ExtensionHookPoint =
  'ClientHello' | 'HelloRetryRequest' | 'ServerHello' | 'EncryptedExtensions' | 'NewSessionTicket';

/**
 * Lets a caller rewrite the extension list we are about to send (order, extra extensions).
 * Used to reproduce other implementations' messages exactly (RFC 8448 traces) and by fuzzers.
 */
export type ExtensionHook = (point: ExtensionHookPoint, extensions: Extension[]) => Extension[];

export interface HandshakeFacts {
  readonly cipherSuite: CipherSuite;
  readonly group: NamedGroup;
  readonly signatureScheme?: string;
  readonly serverName?: string;
  readonly alpnProtocol?: string;
  readonly peerCertificates: readonly Uint8Array[];
  readonly peerVerified: boolean;
  readonly verificationError?: string;
  /** TLS 1.3 resumption with a ticket's PSK (RFC 8446 §2.2); the peer facts are the original session's. */
  readonly resumed?: boolean;
}

export interface HandshakeResult extends HandshakeFacts {
  /** Absent: TLS 1.3. */
  readonly version?: TlsVersion;
  /** TLS 1.3 only (KeyUpdate, exporter); a TLS 1.2 result has `exporter` instead. */
  readonly schedule?: KeySchedule;
  readonly exporterSecret: Uint8Array;
  /** TLS 1.2: the RFC 5705 exporter, where an absent context differs from an empty one. */
  readonly exporter?: (label: string, context: Uint8Array | undefined, length: number) => Uint8Array;
  /** For key-log lines written after the handshake (KeyUpdate). */
  readonly clientRandom: Uint8Array;
}

/** The connection-side surface a handshake state machine drives. */
export interface HandshakeIo {
  readonly provider: CryptoProvider;
  random(length: number): Uint8Array;
  /** Queue a handshake message under the current write protection. */
  sendHandshake(message: Uint8Array): void;
  /** RFC 8446 Appendix D.4 middlebox-compatibility change_cipher_spec. */
  sendChangeCipherSpec(): void;
  setReadSecret(suite: CipherSuite, secret: Uint8Array): void;
  setWriteSecret(suite: CipherSuite, secret: Uint8Array): void;
  /** NSS key-log line (`LABEL client_random secret`). */
  keyLog(label: string, clientRandom: Uint8Array, secret: Uint8Array): void;
  complete(result: HandshakeResult): void;
  /** TLS 1.2 (RFC 5246 §7.1): new record protection for one direction, at ChangeCipherSpec. */
  setProtection12?(direction: 'read' | 'write', protection: RecordProtection12): void;
  /** TLS 1.2 negotiated: every later record must say 0x0303 (RFC 5246 §6.2.1, Appendix E.1). */
  pinRecordVersion12?(): void;
  /** RFC 8449: the peer's record_size_limit, which caps the records we send. */
  peerRecordSizeLimit?(limit: number): void;
  /**
   * RFC 8446 §4.2.10: the server refuses the client's 0-RTT data, so its records are skipped (up
   * to a limit): those that fail to open under the handshake key, or before keys (after a
   * HelloRetryRequest) every application_data record. `false` ends the skipping.
   */
  ignoreEarlyData?(on: boolean): void;
}

/** Running transcript hash (RFC 8446 §4.4.1); buffers until the suite fixes the hash. */
export class Transcript {
  private pending: Uint8Array[] = [];
  private hash: IncrementalHash | undefined;

  constructor(private readonly provider: CryptoProvider) {}

  add(message: Uint8Array): void {
    if (this.hash) this.hash.update(message);
    else this.pending.push(message);
  }

  start(hash: HashName): void {
    this.hash = this.provider.createHash(hash);
    for (const m of this.pending) this.hash.update(m);
    this.pending = [];
  }

  current(): Uint8Array {
    if (!this.hash) throw new Error('transcript hash not started');
    return this.hash.digest();
  }

  /**
   * RFC 8446 §4.4.1: after a HelloRetryRequest, ClientHello1 is replaced by
   * message_hash(Hash(ClientHello1)). Call before adding the HRR.
   */
  replaceWithMessageHash(hash: HashName): void {
    this.start(hash);
    const digest = this.current();
    this.hash = this.provider.createHash(hash);
    this.hash.update(encodeHandshake(HandshakeType.message_hash, digest));
  }
}

/** RFC 8446 §4.4.1: message_hash(Hash(ClientHello1)), what stands for ClientHello1 after a HelloRetryRequest. */
export function messageHash(provider: CryptoProvider, hash: HashName, clientHello1: Uint8Array): Uint8Array {
  return encodeHandshake(HandshakeType.message_hash, provider.hash(hash, clientHello1));
}

/** RFC 8446 §4.4.3: the content covered by a CertificateVerify signature. */
export function certificateVerifyContent(role: 'server' | 'client', transcriptHash: Uint8Array): Uint8Array {
  const context = Buffer.from(`TLS 1.3, ${role} CertificateVerify`, 'latin1');
  const out = new Uint8Array(64 + context.length + 1 + transcriptHash.length);
  out.fill(0x20, 0, 64);
  out.set(context, 64);
  out[64 + context.length] = 0;
  out.set(transcriptHash, 64 + context.length + 1);
  return out;
}
