/**
 * TsTlsEngine: our sans-I/O TLS 1.3 connection driven over a socket. The stream adapter feeds
 * socket bytes in, writes records out, and turns events into Duplex behaviour: data, end on
 * close_notify, destroy with a TlsAlertError on a fatal alert. The only timer is the
 * handshake timeout, and it lives here, outside the state machine.
 */
import { Duplex } from 'node:stream';
import { defaultProvider, nobleProvider, nodeProvider } from '../crypto/default-provider.js';
import type { CryptoProvider } from '../crypto/provider.js';
import { TlsConnection, type TlsEvent } from './connection.js';
import {
  TlsAlertError,
  throwIfDestroyed,
  type TlsClientOptions,
  type TlsEngine,
  type TlsServerOptions,
  type TlsSessionInfo,
  type TlsStream,
} from './engine.js';
import type { HandshakeResult } from './handshake-common.js';

export type CryptoChoice = 'default' | 'node' | 'noble';

export interface TsTlsEngineOptions {
  /** Which crypto provider: the fastest per primitive (default), node:crypto, or pure-JS noble. */
  crypto?: CryptoChoice;
}

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
/** Bytes of protected records we let queue on the socket before pushing back on the writer. */
const SOCKET_WRITE_WINDOW = 256 * 1024;

const swallow = (): void => undefined;

function providerFor(choice: CryptoChoice): CryptoProvider {
  return choice === 'node' ? nodeProvider : choice === 'noble' ? nobleProvider : defaultProvider;
}

class TsTlsStream extends Duplex {
  session!: TlsSessionInfo;
  private result: HandshakeResult | undefined;
  private readonly ready: Promise<void>;
  private settle!: { resolve: () => void; reject: (err: Error) => void };
  private ended = false;

  constructor(
    private readonly socket: Duplex,
    private readonly conn: TlsConnection,
    private readonly describe: (r: HandshakeResult) => TlsSessionInfo,
  ) {
    super({ allowHalfOpen: true, writableHighWaterMark: 64 * 1024 });
    this.ready = new Promise<void>((resolve, reject) => (this.settle = { resolve, reject }));
    // An error path for the stream's whole life (issue 19): until the handshake completes the
    // failure is reported through the engine's promise; after it, a failure that comes before the
    // caller has attached its own listener (a fatal record in the same read as the peer's
    // Finished, a socket error while the caller awaits something else) must not become an
    // uncaught exception. The stream is destroyed either way, and `errored` keeps the cause.
    this.on('error', swallow);
    socket.on('data', this.onSocketData);
    socket.on('end', this.onSocketEnd);
    socket.on('error', this.onSocketError);
    socket.on('close', this.onSocketClose);
    socket.resume();
  }

  get remoteAddress(): string | undefined {
    return (this.socket as { remoteAddress?: string }).remoteAddress;
  }

  get remotePort(): number | undefined {
    return (this.socket as { remotePort?: number }).remotePort;
  }

  handshake(timeoutMs: number): Promise<void> {
    const timer = setTimeout(
      () =>
        this.abort(
          new TlsAlertError('handshake_timeout', `TLS handshake not complete after ${timeoutMs} ms`),
        ),
      timeoutMs,
    );
    return this.ready.finally(() => clearTimeout(timer));
  }

  /**
   * The stream to hand over once the handshake promise has settled, or the reason not to: events
   * read in the same batch as the peer's Finished may already have destroyed it, and a dead
   * stream is no success.
   */
  handOver(): TlsStream {
    throwIfDestroyed(this);
    return this as unknown as TlsStream;
  }

  start(): void {
    this.conn.start();
    this.pump();
  }

  exportKeyingMaterial(length: number, label: string, context?: Buffer): Buffer {
    // Passed through as given: RFC 5705 (TLS 1.2) tells an absent context from an empty one.
    return Buffer.from(this.conn.exportKeyingMaterial(length, label, context));
  }

  private readonly onSocketData = (chunk: Buffer) => {
    this.conn.receive(chunk);
    this.pump();
  };

  private readonly onSocketEnd = () => {
    // A FIN without close_notify: a truncation the application may want to know of (RFC 8446 §6.1).
    if (!this.result)
      this.abort(new TlsAlertError('handshake_failure', 'connection closed during the TLS handshake', true));
    else if (!this.ended) this.finishReading();
  };

  private readonly onSocketError = (err: Error) => this.abort(err);
  private readonly onSocketClose = () => {
    if (!this.result)
      this.abort(new TlsAlertError('handshake_failure', 'connection closed during the TLS handshake', true));
    else {
      if (!this.ended) this.finishReading();
      this.destroy();
    }
  };

  private finishReading(): void {
    this.ended = true;
    this.push(null);
  }

  private abort(err: Error): void {
    this.settle.reject(err);
    this.destroy(err);
  }

  /** Write what the connection produced and act on its events. */
  private pump(): void {
    const out = this.conn.takeOutput();
    if (out.length && !this.socket.destroyed) this.writeRecords(out);
    for (const ev of this.conn.takeEvents()) this.onEvent(ev);
  }

  private onEvent(ev: TlsEvent): void {
    switch (ev.type) {
      case 'established':
        this.result = ev.result;
        this.session = this.describe(ev.result);
        this.settle.resolve();
        return;
      case 'data':
        // The node provider's plaintext is already a Buffer; others get a view, not a copy.
        if (
          !this.push(
            Buffer.isBuffer(ev.data)
              ? ev.data
              : Buffer.from(ev.data.buffer, ev.data.byteOffset, ev.data.byteLength),
          )
        )
          this.socket.pause();
        return;
      case 'peer-closed':
        if (!this.ended) this.finishReading();
        return;
      case 'fatal': {
        const err = new TlsAlertError(ev.alert, ev.message, ev.sentByPeer);
        // Let the alert we sent reach the peer before the socket goes.
        if (!this.socket.destroyed) this.socket.end();
        this.abort(err);
        return;
      }
    }
  }

  override _read(): void {
    this.socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    this.send([chunk], cb);
  }

  override _writev(chunks: Array<{ chunk: Buffer }>, cb: (err?: Error | null) => void): void {
    this.send(
      chunks.map((c) => c.chunk),
      cb,
    );
  }

  private send(chunks: Buffer[], cb: (err?: Error | null) => void): void {
    if (!this.conn.isOpen) return cb(new TlsAlertError('internal_error', 'TLS connection is closed'));
    for (const c of chunks) this.conn.send(c);
    const out = this.conn.takeOutput();
    for (const ev of this.conn.takeEvents()) this.onEvent(ev);
    if (out.length === 0) return cb();
    this.writeRecords(out);
    // The socket's own high-water mark (16 KiB) is one full record: waiting for 'drain' after
    // each would stall the pipe on every record. Allow a bounded window of queued records.
    if ((this.socket.writableLength ?? 0) <= SOCKET_WRITE_WINDOW) cb();
    else this.socket.once('drain', () => cb());
  }

  /** Records go out corked, without being concatenated first. */
  private writeRecords(records: Uint8Array[]): void {
    if (records.length === 1) {
      this.socket.write(records[0]!);
      return;
    }
    this.socket.cork();
    for (const r of records) this.socket.write(r);
    this.socket.uncork();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.conn.close();
    this.pump();
    this.socket.end(cb);
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.socket.off('data', this.onSocketData);
    this.socket.destroy();
    cb(err);
  }
}

export class TsTlsEngine implements TlsEngine {
  readonly name = 'ts' as const;
  readonly provider: CryptoProvider;

  constructor(options: TsTlsEngineOptions = {}) {
    this.provider = providerFor(options.crypto ?? 'default');
  }

  async accept(socket: Duplex, options: TlsServerOptions): Promise<TlsStream> {
    const conn = new TlsConnection({
      role: 'server',
      provider: this.provider,
      keyLog: options.keyLog,
      server: {
        certificates: options.certificates,
        alpnProtocols: options.alpnProtocols,
        minVersion: options.minVersion ?? 'TLSv1.2',
        maxVersion: options.maxVersion ?? 'TLSv1.3',
        sessionTickets: options.sessionTickets,
      },
    });
    const stream = new TsTlsStream(socket, conn, (r) => sessionInfo(r, r.serverName));
    stream.start();
    await stream.handshake(options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
    return stream.handOver();
  }

  async connect(socket: Duplex, options: TlsClientOptions): Promise<TlsStream> {
    const conn = new TlsConnection({
      role: 'client',
      provider: this.provider,
      keyLog: options.keyLog,
      client: {
        serverName: options.serverName,
        ca: options.ca,
        rejectUnauthorized: options.rejectUnauthorized ?? true,
        alpnProtocols: options.alpnProtocols,
        minVersion: options.minVersion ?? 'TLSv1.2',
        maxVersion: options.maxVersion ?? 'TLSv1.3',
        sessionCache: options.sessionCache,
      },
    });
    const stream = new TsTlsStream(socket, conn, (r) => sessionInfo(r, options.serverName));
    stream.start();
    await stream.handshake(options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
    return stream.handOver();
  }
}

function sessionInfo(r: HandshakeResult, serverName: string | undefined): TlsSessionInfo {
  return {
    engine: 'ts',
    version: r.version ?? 'TLSv1.3',
    cipherSuite: r.cipherSuite.name,
    group: r.group,
    signatureScheme: r.signatureScheme,
    serverName,
    alpnProtocol: r.alpnProtocol,
    peerCertificates: r.peerCertificates,
    peerVerified: r.peerVerified,
    verificationError: r.verificationError,
    resumed: r.resumed ?? false,
  };
}
