/**
 * TlsConnection: the sans-I/O TLS 1.3 / TLS 1.2 endpoint. Bytes go in through `receive`, application
 * data through `send`; records to transmit and events (established, data, closed, fatal) come
 * out through `takeOutput` and `takeEvents`. No sockets, no timers. Every failure becomes an
 * alert and a close (RFC 8446 §6.2); nothing throws out of `receive`.
 */
import type { CryptoProvider } from '../crypto/provider.js';
import { ALERT_CODES, alertName, type AlertName } from './alerts.js';
import {
  TlsFatal,
  internalError,
  invalidMessage,
  misbehaved,
  unexpectedMessage,
  type TlsFailure,
} from './failures.js';
import { concatBytes } from './codec.js';
import { ClientHandshake, type ClientHandshakeConfig } from './client-handshake.js';
import {
  ContentType,
  HandshakeType,
  MAX_CLIENT_HELLO,
  MAX_HANDSHAKE_MESSAGE,
  type CipherSuite,
} from './constants.js';
import type { HandshakeIo, HandshakeMessage, HandshakeResult } from './handshake-common.js';
import { KeySchedule } from './key-schedule.js';
import { decodeKeyUpdate, encodeKeyUpdate } from './messages.js';
import { HandshakeType12 } from './tls12-suites.js';
import { RecordLayer, type PlainRecord } from './record-layer.js';
import { ServerHandshake, type ServerHandshakeConfig } from './server-handshake.js';

export type TlsEvent =
  | { type: 'established'; result: HandshakeResult }
  | { type: 'data'; data: Uint8Array }
  /** The peer sent close_notify: no more data will come (RFC 8446 §6.1). */
  | { type: 'peer-closed' }
  /** `failure`: our typed cause when we sent the alert (failures.ts); absent for the peer's. */
  | { type: 'fatal'; alert: string; message: string; sentByPeer: boolean; failure?: TlsFailure };

export type TlsConnectionOptions = {
  provider: CryptoProvider;
  /** Randomness source (tests inject fixed bytes). */
  random?: (length: number) => Uint8Array;
  keyLog?: (line: string) => void;
  /** Records we send under one key before updating it (RFC 8446 §5.5; default 2^24). */
  keyUpdateAfterRecords?: number;
} & ({ role: 'server'; server: ServerHandshakeConfig } | { role: 'client'; client: ClientHandshakeConfig });

type ConnState = 'handshaking' | 'open' | 'closed';

/** RFC 8446 §4.2.10: refused 0-RTT we skip before giving up (OpenSSL's default max_early_data is 16 KiB). */
const MAX_SKIPPED_EARLY_DATA = 64 * 1024;

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

export class TlsConnection {
  private readonly records: RecordLayer;
  private readonly machine: ServerHandshake | ClientHandshake;
  private state: ConnState = 'handshaking';
  private output: Uint8Array[] = [];
  private events: TlsEvent[] = [];
  private handshakeBuffer: Uint8Array = new Uint8Array(0);
  /**
   * Handshake messages written under the current write protection, sent together: a flight in
   * as few records as fit (RFC 8446 §5.1 lets messages share a record; fewer records, fewer seals).
   */
  private pendingHandshake: Uint8Array[] = [];
  private result: HandshakeResult | undefined;
  private suite: CipherSuite | undefined;
  private readSecret: Uint8Array | undefined;
  private writeSecret: Uint8Array | undefined;
  private recordsUnderKey = 0;
  private readonly keyUpdateAfter: number;
  private readClosed = false;
  private writeClosed = false;
  /** Bytes of refused 0-RTT records we will still skip (RFC 8446 §4.2.10); undefined: not skipping. */
  private earlyDataBudget: number | undefined;

  constructor(private readonly options: TlsConnectionOptions) {
    this.records = new RecordLayer(options.provider);
    this.keyUpdateAfter = options.keyUpdateAfterRecords ?? 2 ** 24;
    const io: HandshakeIo = {
      provider: options.provider,
      random: options.random ?? ((n) => options.provider.randomBytes(n)),
      sendHandshake: (m) => this.pendingHandshake.push(m),
      sendChangeCipherSpec: () => {
        this.flushHandshake();
        this.output.push(Uint8Array.of(ContentType.change_cipher_spec, 3, 3, 0, 1, 1));
      },
      setReadSecret: (suite, secret) => {
        // RFC 8446 §5.1: handshake messages must not span a key change.
        if (this.handshakeBuffer.length > 0)
          throw misbehaved('handshakeSpansKeyChange', 'handshake message spans a key change');
        this.suite = suite;
        this.readSecret = secret;
        this.records.setReadKeys(suite, this.scheduleFor(suite).trafficKeys(secret));
      },
      setWriteSecret: (suite, secret) => {
        // What was written under the old key goes out under it.
        this.flushHandshake();
        this.suite = suite;
        this.writeSecret = secret;
        this.recordsUnderKey = 0;
        this.records.setWriteKeys(suite, this.scheduleFor(suite).trafficKeys(secret));
      },
      setProtection12: (direction, protection) => {
        if (direction === 'write') this.flushHandshake();
        // RFC 5246 §7.1: a handshake message must not span the ChangeCipherSpec.
        if (direction === 'read' && this.handshakeBuffer.length > 0)
          throw misbehaved('handshakeSpansKeyChange', 'handshake message spans ChangeCipherSpec');
        this.records.setProtection12(direction, protection);
      },
      pinRecordVersion12: () => {
        this.records.pinnedVersion = 0x0303;
      },
      keyLog: (label, clientRandom, secret) =>
        options.keyLog?.(`${label} ${hex(clientRandom)} ${hex(secret)}`),
      complete: (result) => {
        this.result = result;
        this.state = 'open';
        this.events.push({ type: 'established', result });
      },
      peerRecordSizeLimit: (limit) => {
        // RFC 8449 §4: the limit counts the inner content type in TLS 1.3; 64 is the floor.
        if (limit < 64) throw misbehaved('recordSizeLimitTooSmall', `record_size_limit ${limit} below 64`);
        this.records.maxFragment = Math.min(this.records.maxFragment, limit - 1);
      },
      ignoreEarlyData: (on) => {
        this.earlyDataBudget = on ? MAX_SKIPPED_EARLY_DATA : undefined;
      },
    };
    this.machine =
      options.role === 'server'
        ? new ServerHandshake(io, options.server)
        : new ClientHandshake(io, options.client);
  }

  private readonly schedules = new Map<number, KeySchedule>();
  /** HKDF-Expand-Label for traffic keys depends only on the suite's hash. */
  private scheduleFor(suite: CipherSuite): KeySchedule {
    let s = this.schedules.get(suite.code);
    if (!s) {
      s = new KeySchedule(this.options.provider, suite);
      this.schedules.set(suite.code, s);
    }
    return s;
  }

  get isOpen(): boolean {
    return this.state === 'open';
  }

  get handshakeResult(): HandshakeResult | undefined {
    return this.result;
  }

  /** Client side: emit the ClientHello. */
  start(): void {
    this.guard(() => {
      if (!(this.machine instanceof ClientHandshake)) return;
      this.records.plaintextVersion = 0x0301;
      this.machine.start();
      this.flushHandshake(); // under the ClientHello's record version
      this.records.plaintextVersion = 0x0303;
    });
  }

  receive(data: Uint8Array): void {
    if (this.state === 'closed' || this.readClosed) return;
    this.guard(() => {
      this.records.push(data);
      for (
        let rec = this.records.nextRecord();
        rec;
        rec = this.state === 'closed' ? undefined : this.records.nextRecord()
      ) {
        if (rec.type === ContentType.change_cipher_spec) {
          // RFC 8446 §5: one byte 0x01, only during the handshake, never protected.
          if (!this.machine.acceptsChangeCipherSpec || rec.body.length !== 1 || rec.body[0] !== 1) {
            throw misbehaved('unexpectedChangeCipherSpec', 'unexpected change_cipher_spec');
          }
          // TLS 1.2 (RFC 5246 §7.1): the peer switches to the pending protection; TLS 1.3: ignored.
          this.machine.onChangeCipherSpec();
          continue;
        }
        let type = rec.type;
        let content = rec.body;
        // A peer that failed before deriving keys may still send its alert in the clear.
        const plainAlert =
          rec.type === ContentType.alert && this.state === 'handshaking' && rec.body.length === 2;
        if (this.earlyDataBudget !== undefined && rec.type === ContentType.application_data) {
          const opened = this.openOrSkipEarlyData(rec);
          if (!opened) continue;
          ({ type, content } = opened);
        } else if (this.records.isReadProtected && !plainAlert)
          ({ type, content } = this.records.unprotect(rec));
        else if (type === ContentType.application_data)
          throw misbehaved('applicationDataBeforeKeys', 'application data before keys');
        // RFC 8446 §5.1: a handshake message split over records allows no other record between;
        // a peer's alert is still read (it says why the peer gave up).
        if (type === ContentType.application_data && this.handshakeBuffer.length > 0)
          throw misbehaved(
            'recordInterleavedWithHandshake',
            'record interleaved with a fragmented handshake message',
          );
        if (type === ContentType.alert) this.onAlert(content);
        else if (type === ContentType.handshake) this.onHandshakeBytes(content);
        else if (type === ContentType.application_data) {
          if (this.state !== 'open')
            throw misbehaved('applicationDataDuringHandshake', 'application data during the handshake');
          if (content.length > 0) this.events.push({ type: 'data', data: content });
        } else throw unexpectedMessage(`content type ${type}`);
        if (this.readClosed) break;
      }
    });
  }

  /** Application data to protect and send. */
  send(data: Uint8Array): void {
    if (this.state !== 'open' || this.writeClosed) throw internalError('connection is not open for writing');
    this.guard(() => {
      let off = 0;
      while (off < data.length) {
        const n = Math.min(this.records.maxFragment, data.length - off);
        this.records.protectGathered(ContentType.application_data, data.subarray(off, off + n), this.output);
        off += n;
        // TLS 1.2 has no KeyUpdate; its AEAD nonces last 2^64 records (RFC 5288 §3, RFC 7905 §2).
        if (++this.recordsUnderKey >= this.keyUpdateAfter && this.result?.version !== 'TLSv1.2')
          this.updateWriteKey(false);
      }
    });
  }

  /** Send close_notify (RFC 8446 §6.1); reading may go on until the peer closes too. */
  close(): void {
    if (this.writeClosed || this.state === 'closed') return;
    this.sendAlert('close_notify');
    this.writeClosed = true;
    if (this.readClosed) this.state = 'closed';
  }

  /**
   * Bytes to transmit, in order. Handshake and alert records come whole; a large application
   * data record may come as several consecutive chunks (header, ciphertext, tag) for a gathering
   * write.
   */
  takeOutput(): Uint8Array[] {
    const out = this.output;
    this.output = [];
    return out;
  }

  takeEvents(): TlsEvent[] {
    const ev = this.events;
    this.events = [];
    return ev;
  }

  /** RFC 8446 §7.5 exporter; RFC 5705 in TLS 1.2, where an absent context differs from an empty one. */
  exportKeyingMaterial(length: number, label: string, context?: Uint8Array): Uint8Array {
    if (!this.result) throw new Error('handshake not complete');
    if (this.result.exporter) return this.result.exporter(label, context, length);
    return this.result.schedule!.exportKeyingMaterial(
      this.result.exporterSecret,
      label,
      context ?? new Uint8Array(0),
      length,
    );
  }

  /** Ask the peer to update its keys too (RFC 8446 §4.6.3). */
  requestKeyUpdate(): void {
    if (this.result?.version === 'TLSv1.2') throw new Error('KeyUpdate is TLS 1.3 only');
    this.guard(() => this.updateWriteKey(true));
  }

  private guard(fn: () => void): void {
    try {
      fn();
      this.flushHandshake();
    } catch (err) {
      this.pendingHandshake = [];
      const fatal = err instanceof TlsFatal ? err : internalError((err as Error).message ?? String(err));
      this.fail(fatal);
    }
  }

  private fail({ alert, message, failure }: TlsFatal): void {
    if (this.state === 'closed') return;
    try {
      this.sendAlert(alert);
    } catch {
      // The alert itself could not be protected; closing is all that is left.
    }
    this.state = 'closed';
    this.events.push({ type: 'fatal', alert, message, sentByPeer: false, failure });
  }

  private sendAlert(alert: AlertName): void {
    const level =
      alert === 'close_notify' || alert === 'user_canceled' || alert === 'no_renegotiation' ? 1 : 2;
    this.records.protect(ContentType.alert, Uint8Array.of(level, ALERT_CODES[alert]), this.output);
  }

  private onAlert(content: Uint8Array): void {
    // RFC 8446 §5.1: alert records are never empty (tlsfuzzer and OpenSSL: unexpected_message).
    if (content.length === 0) throw misbehaved('emptyAlert', 'empty alert record');
    if (content.length !== 2) throw invalidMessage('alert of wrong length');
    const code = content[1]!;
    if (code === ALERT_CODES.close_notify) {
      this.readClosed = true;
      this.events.push({ type: 'peer-closed' });
      if (this.writeClosed) this.state = 'closed';
      return;
    }
    if (code === ALERT_CODES.user_canceled) return;
    // RFC 8446 §6.2: every other alert is fatal, whatever its level says.
    this.state = 'closed';
    this.events.push({
      type: 'fatal',
      alert: alertName(code),
      message: `peer sent ${alertName(code)}`,
      sentByPeer: true,
    });
  }

  private onHandshakeBytes(content: Uint8Array): void {
    if (content.length === 0) throw misbehaved('emptyHandshakeRecord', 'empty handshake record');
    let buf = this.handshakeBuffer.length ? concatBytes([this.handshakeBuffer, content]) : content;
    while (buf.length >= 4) {
      const len = (buf[1]! << 16) | (buf[2]! << 8) | buf[3]!;
      const cap = buf[0] === HandshakeType.client_hello ? MAX_CLIENT_HELLO : MAX_HANDSHAKE_MESSAGE;
      if (len > cap) throw invalidMessage(`handshake message of ${len} bytes`);
      if (buf.length < 4 + len) break;
      const raw = buf.subarray(0, 4 + len);
      buf = buf.subarray(4 + len);
      this.handshakeBuffer = buf;
      const msg: HandshakeMessage = { type: raw[0]!, body: raw.subarray(4), raw };
      if (this.state === 'handshaking') this.machine.handle(msg);
      else this.onPostHandshake(msg);
      if (this.state === 'closed') return;
      buf = this.handshakeBuffer;
    }
    this.handshakeBuffer = Uint8Array.from(buf);
  }

  private onPostHandshake(msg: HandshakeMessage): void {
    if (this.result?.version === 'TLSv1.2') return this.onPostHandshake12(msg);
    if (msg.type === HandshakeType.key_update) {
      const requested = decodeKeyUpdate(msg.body);
      if (this.handshakeBuffer.length > 0)
        throw misbehaved('handshakeSpansKeyChange', 'KeyUpdate spans a key change');
      this.readSecret = this.result!.schedule!.nextTrafficSecret(this.readSecret!);
      this.records.setReadKeys(this.suite!, this.scheduleFor(this.suite!).trafficKeys(this.readSecret));
      if (requested && !this.writeClosed) this.updateWriteKey(false);
      return;
    }
    if (msg.type === HandshakeType.new_session_ticket && this.machine instanceof ClientHandshake)
      return this.machine.onNewSessionTicket(msg);
    throw unexpectedMessage(`handshake message ${msg.type} after the handshake`);
  }

  /**
   * RFC 8446 §4.2.10: the server refused 0-RTT, so the client's early records are discarded: under
   * the handshake key those that fail to open (the first that opens ends the skipping), before
   * keys (after a HelloRetryRequest) all application_data records. Past the budget:
   * unexpected_message (§4.6.1). Returns the opened record, or undefined when it was skipped.
   */
  private openOrSkipEarlyData(rec: PlainRecord): { type: number; content: Uint8Array } | undefined {
    if (this.records.isReadProtected) {
      try {
        const opened = this.records.unprotect(rec);
        this.earlyDataBudget = undefined;
        return opened;
      } catch (err) {
        if (!(err instanceof TlsFatal) || err.alert !== 'bad_record_mac') throw err;
        // A failed open still advanced the read sequence number: start the key over.
        this.records.setReadKeys(this.suite!, this.scheduleFor(this.suite!).trafficKeys(this.readSecret!));
      }
    }
    this.earlyDataBudget! -= rec.body.length;
    if (this.earlyDataBudget! < 0)
      throw misbehaved('tooMuchEarlyData', 'more early data than we skip (0-RTT is never accepted)');
    return undefined;
  }

  /**
   * TLS 1.2 after the handshake: a HelloRequest (to a client) or a ClientHello (to a server)
   * asks for renegotiation, which we never do: a no_renegotiation warning answers it
   * (RFC 5246 §7.4.1.1, §7.2.2; RFC 5746 §4.2, §4.4). Anything else is out of place.
   */
  private onPostHandshake12(msg: HandshakeMessage): void {
    const client = this.options.role === 'client';
    if (client && msg.type === HandshakeType12.hello_request && msg.body.length === 0)
      return this.sendAlert('no_renegotiation');
    if (!client && msg.type === HandshakeType.client_hello) return this.sendAlert('no_renegotiation');
    throw unexpectedMessage(`handshake message ${msg.type} after the handshake`);
  }

  private flushHandshake(): void {
    if (this.pendingHandshake.length === 0) return;
    const messages = this.pendingHandshake;
    this.pendingHandshake = [];
    this.records.protect(
      ContentType.handshake,
      messages.length === 1 ? messages[0]! : concatBytes(messages),
      this.output,
    );
  }

  private updateWriteKey(requestPeer: boolean): void {
    this.records.protect(ContentType.handshake, encodeKeyUpdate(requestPeer), this.output);
    this.writeSecret = this.result!.schedule!.nextTrafficSecret(this.writeSecret!);
    this.recordsUnderKey = 0;
    this.records.setWriteKeys(this.suite!, this.scheduleFor(this.suite!).trafficKeys(this.writeSecret));
  }
}
