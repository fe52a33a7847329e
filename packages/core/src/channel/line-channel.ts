/**
 * LineChannel: the reading and writing half of every protocol session. Commands are read as
 * CRLF lines with a length limit, payloads as exact-length reads (IMAP literals) or
 * dot-terminated blocks (SMTP DATA, NNTP POST), and `upgrade()` is the single STARTTLS point:
 * it drops every byte received but not yet consumed before the TLS engine sees the socket.
 */
import { Readable, type Duplex } from 'node:stream';
import {
  BlockTooLargeError,
  ChannelClosedError,
  CommandTimeoutError,
  IdleTimeoutError,
  LineTooLongError,
  PreAuthTimeoutError,
  UpgradeError,
} from '../errors.js';
import type { Logger } from '../logging.js';
import { silentLogger } from '../logging.js';
import type {
  TlsClientOptions,
  TlsEngine,
  TlsServerOptions,
  TlsSessionInfo,
  TlsStream,
} from '../tls/engine.js';
import { DotDecoder } from './dot-codec.js';
import { IdleTimer } from './idle-timer.js';
import { ReadDeadlines } from './read-deadlines.js';
import { SinkOut, StreamOut, type PayloadOut } from './payload-out.js';

export interface LineChannelOptions {
  /** Longest command line accepted, CRLF excluded (default 8192 octets). */
  maxLineLength?: number;
  /** Reject a pending read after this long without input; 0 disables (default 5 minutes). */
  idleTimeoutMs?: number;
  /** Pause the socket while this much unread input is buffered (default 1 MiB). */
  highWaterMark?: number;
  /**
   * A command line must be complete within this long of its first octet, however its bytes
   * trickle in (the idle timeout only measures silence); a pending `readLine()` then fails with
   * CommandTimeoutError. 0 disables (the default).
   */
  commandTimeoutMs?: number;
  /**
   * From the channel's creation (the connection) until `authenticated()`: past it, the pending
   * read and every later one fail with PreAuthTimeoutError, and a session that does not close
   * within a grace period is dropped. 0 disables (the default).
   */
  preAuthTimeoutMs?: number;
  logger?: Logger;
}

export type UpgradeOptions =
  ({ role: 'server' } & TlsServerOptions) | ({ role: 'client' } & TlsClientOptions);

export interface UpgradeResult {
  readonly session: TlsSessionInfo;
  /** Plaintext octets received before the upgrade that were dropped unread. */
  readonly discardedBytes: number;
}

/**
 * Takes the pieces of a dot-terminated block (`readDotBlockInto`). A returned promise means
 * "busy": no further piece comes until it settles; a rejection abandons the block.
 */
export type BlockSink = (piece: Buffer) => Promise<void> | undefined;

type Pending =
  | { kind: 'line'; resolve: (line: string) => void; reject: (err: Error) => void }
  | { kind: 'exact'; remaining: number; out: PayloadOut; max: number }
  | { kind: 'dot'; decoder: DotDecoder; out: PayloadOut; written: number; max: number };

type ChannelState = 'open' | 'upgrading' | 'closed';

/** After the pre-auth deadline, time left to write the goodbye before the connection is dropped. */
const PRE_AUTH_GRACE_MS = 5000;

export class LineChannel {
  private stream: Duplex;
  private buffer: Buffer = Buffer.alloc(0);
  private pending: Pending | undefined;
  private discardingLine = false;
  private ended = false;
  private state: ChannelState = 'open';
  private closeError: Error | undefined;
  private readonly idle = new IdleTimer(() => this.failPending(new IdleTimeoutError(this.idleTimeoutMs)));
  private idleTimeoutMs: number;
  private readonly maxLineLength: number;
  private readonly highWaterMark: number;
  private readonly logger: Logger;
  private tlsSession: TlsSessionInfo | undefined;
  private outputPaused = false;
  private readonly closeWaiters: Array<() => void> = [];
  private readonly deadlines: ReadDeadlines;

  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;

  constructor(stream: Duplex, options: LineChannelOptions = {}) {
    this.stream = stream;
    this.maxLineLength = options.maxLineLength ?? 8192;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 5 * 60_000;
    this.highWaterMark = options.highWaterMark ?? 1024 * 1024;
    this.logger = options.logger ?? silentLogger;
    this.deadlines = new ReadDeadlines({
      commandTimeoutMs: options.commandTimeoutMs ?? 0,
      preAuthTimeoutMs: options.preAuthTimeoutMs ?? 0,
      onCommandTimeout: () => this.onCommandTimeout(),
      onPreAuthTimeout: () => this.onPreAuthTimeout(),
      readerPaused: () => this.outputPaused,
    });
    const sock = stream as Duplex & { remoteAddress?: string; remotePort?: number };
    this.remoteAddress = sock.remoteAddress;
    this.remotePort = sock.remotePort;
    this.attach(stream);
  }

  /** The TLS session once `upgrade()` succeeded (or the channel was built on a TLS stream). */
  get tls(): TlsSessionInfo | undefined {
    return this.tlsSession;
  }

  get isSecure(): boolean {
    return this.tlsSession !== undefined;
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Octets received and not yet consumed: pipelined input (RFC 2920) or an injection attempt. */
  get bufferedBytes(): number {
    return this.buffer.length;
  }

  /** For a channel built over an already-established TLS stream (implicit TLS listeners). */
  markSecure(session: TlsSessionInfo): void {
    this.tlsSession = session;
  }

  setIdleTimeout(ms: number): void {
    this.idleTimeoutMs = ms;
    if (this.pending) this.idle.arm(this.idleTimeoutMs);
  }

  /** The session authenticated: the pre-auth deadline is lifted. */
  authenticated(): void {
    this.deadlines.authenticated();
  }

  /** Next line without its line ending. A bare LF also ends a command line. */
  readLine(): Promise<string> {
    return new Promise<string>((resolve, reject) => {
      this.startRead({ kind: 'line', resolve, reject }, reject);
    });
  }

  /** Exactly `length` octets as a stream (IMAP literals); more than `max` is refused up front. */
  readExact(length: number, max = Number.MAX_SAFE_INTEGER): Readable {
    const out = this.payloadStream();
    if (length > max) {
      queueMicrotask(() => out.stream.destroy(new BlockTooLargeError(max)));
      return out.stream;
    }
    this.startRead({ kind: 'exact', remaining: length, out, max }, (err) => out.fail(err));
    if (length === 0) this.finishPayload();
    return out.stream;
  }

  /** Exactly `length` octets collected into a Buffer. */
  async readExactBuffer(length: number, max?: number): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of this.readExact(length, max)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  /**
   * A dot-terminated block, unstuffed, as a stream. Past `maxBytes` the rest of the block is
   * read and dropped, then the stream fails with BlockTooLargeError, so the session can answer
   * and go on (RFC 5321 §4.5.3.1.10: 552 after the block, not mid-stream).
   */
  readDotBlock(maxBytes = Number.MAX_SAFE_INTEGER): Readable {
    const out = this.payloadStream();
    this.startDotRead(out, maxBytes);
    return out.stream;
  }

  /**
   * `readDotBlock` without a stream: the pieces go to `sink` in order, and the promise settles
   * once the block was read and the sink is done with it (fails like the stream would, or with
   * the sink's own error: then the rest of the block is read and dropped). A stream and its
   * async iterator cost more than the whole of a small message's reading (SMTP DATA).
   */
  readDotBlockInto(maxBytes: number, sink: BlockSink): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const out: SinkOut = new SinkOut(sink, () => this.resumeOutput(out), resolve, reject);
      this.startDotRead(out, maxBytes);
    });
  }

  /** Write with backpressure: resolves once the stream accepted the data (or drained). */
  async write(data: string | Buffer): Promise<void> {
    if (this.state === 'closed') throw this.closeError ?? new ChannelClosedError();
    const stream = this.stream;
    if (stream.write(data)) return;
    await new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        stream.off('drain', onDrain);
        stream.off('close', onClose);
        if (err) reject(err);
        else resolve();
      };
      const onDrain = () => done();
      const onClose = () => done(new ChannelClosedError());
      stream.once('drain', onDrain);
      stream.once('close', onClose);
    });
  }

  /**
   * STARTTLS. Stops reading, drops every byte already received (RFC 3207 §4.2, RFC 2595 §3.1,
   * RFC 4642 §2.2.2: nothing sent before the handshake may be acted on), writes `reply` (the
   * server's go-ahead), then hands the live socket to the engine and goes on over TLS.
   */
  async upgrade(engine: TlsEngine, options: UpgradeOptions, reply?: string | Buffer): Promise<UpgradeResult> {
    if (this.state !== 'open') throw new UpgradeError(`cannot upgrade a channel that is ${this.state}`);
    if (this.pending) throw new UpgradeError('cannot upgrade with a read in progress');
    if (this.tlsSession) throw new UpgradeError('channel is already secure');
    const socket = this.stream;
    this.state = 'upgrading';
    this.idle.stop();
    this.detach(socket);
    // From here the socket has no channel listeners: an error (a reset while the reply is
    // written or the handshake runs) must not become an unhandled 'error' event. The handshake
    // or the TLS stream reports it; the raw socket only logs it.
    socket.on('error', (err: Error) =>
      this.logger.debug({ err: err.message }, 'socket error under TLS upgrade'),
    );
    socket.pause();
    let discarded = this.buffer.length;
    this.buffer = Buffer.alloc(0);
    this.discardingLine = false;
    for (let chunk = socket.read(); chunk !== null; chunk = socket.read()) {
      discarded += (chunk as Buffer).length;
    }
    if (discarded > 0) {
      this.logger.warn({ discardedBytes: discarded }, 'plaintext received before TLS dropped');
    }
    try {
      if (reply !== undefined) {
        await new Promise<void>((resolve, reject) =>
          socket.write(reply, (err) => (err ? reject(err) : resolve())),
        );
      }
      const { role, ...tlsOptions } = options;
      const secure: TlsStream =
        role === 'server'
          ? await engine.accept(socket, tlsOptions as TlsServerOptions)
          : await engine.connect(socket, tlsOptions as TlsClientOptions);
      this.stream = secure;
      this.tlsSession = secure.session;
      this.state = 'open';
      this.attach(secure);
      return { session: secure.session, discardedBytes: discarded };
    } catch (err) {
      this.state = 'closed';
      this.closeError = new UpgradeError(`TLS handshake failed: ${(err as Error).message}`, { cause: err });
      socket.destroy();
      this.notifyClosed();
      throw this.closeError;
    }
  }

  /** Flush what was written, send FIN (and close_notify under TLS), release the socket. */
  async close(): Promise<void> {
    if (this.state === 'closed') return;
    this.shutdown(new ChannelClosedError('channel closed locally'), false);
    const stream = this.stream;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => {
        stream.destroy();
        resolve();
      }, 2000);
      timer.unref();
      stream.end(() => {
        clearTimeout(timer);
        resolve();
      });
      stream.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
    });
    stream.destroy();
  }

  /** Drop the connection at once. */
  destroy(): void {
    this.shutdown(new ChannelClosedError('channel destroyed'), false);
    this.stream.destroy();
  }

  /** Resolves when the channel is closed, by either side. */
  closed(): Promise<void> {
    if (this.state === 'closed') return Promise.resolve();
    return new Promise((resolve) => this.closeWaiters.push(resolve));
  }

  // ---- internals -------------------------------------------------------------------------

  private readonly onData = (chunk: Buffer) => {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    if (this.pending) this.idle.arm(this.idleTimeoutMs);
    this.pump();
  };

  /** The peer sent FIN: buffered input is still served; a read it cannot satisfy fails. */
  private readonly onEnd = () => {
    this.ended = true;
    this.pump();
  };
  private readonly onError = (err: Error) =>
    this.shutdown(new ChannelClosedError(`connection error: ${err.message}`), false);
  /** Commands the peer sent before closing stay readable (a pipelined QUIT, RFC 2920). */
  private readonly onClose = () => this.shutdown(new ChannelClosedError('connection closed'), true);

  private attach(stream: Duplex): void {
    stream.on('data', this.onData);
    stream.on('end', this.onEnd);
    stream.on('error', this.onError);
    stream.on('close', this.onClose);
  }

  private detach(stream: Duplex): void {
    stream.off('data', this.onData);
    stream.off('end', this.onEnd);
    stream.off('error', this.onError);
    stream.off('close', this.onClose);
  }

  private payloadStream(): StreamOut {
    const out: StreamOut = new StreamOut(
      new Readable({
        highWaterMark: 256 * 1024,
        read: () => this.resumeOutput(out),
      }),
    );
    // A consumer that stops early destroys the stream: drain the payload on its behalf.
    out.stream.once('close', () => this.resumeOutput(out));
    return out;
  }

  private resumeOutput(out: PayloadOut): void {
    const p = this.pending;
    if (this.outputPaused && p && p.kind !== 'line' && p.out === out) {
      this.outputPaused = false;
      this.pump();
    }
  }

  private startDotRead(out: PayloadOut, max: number): void {
    this.startRead({ kind: 'dot', decoder: new DotDecoder(), out, written: 0, max }, (err) => out.fail(err));
  }

  private startRead(request: Pending, fail: (err: Error) => void): void {
    if (this.state === 'closed' && this.buffer.length === 0) {
      const err = this.closeError ?? new ChannelClosedError();
      queueMicrotask(() => fail(err));
      return;
    }
    if (this.pending) {
      queueMicrotask(() => fail(new Error('LineChannel: a read is already in progress')));
      return;
    }
    if (this.deadlines.preAuthExpired) {
      const err = new PreAuthTimeoutError(this.deadlines.preAuthTimeoutMs);
      queueMicrotask(() => fail(err));
      return;
    }
    this.pending = request;
    this.idle.arm(this.idleTimeoutMs);
    if (request.kind !== 'line') this.deadlines.payloadStarted();
    this.pump();
  }

  /** Serve the pending read from the buffer as far as it goes; pause the socket when full. */
  private pump(): void {
    while (this.pending && this.buffer.length > 0 && !this.outputPaused) {
      const p = this.pending;
      if (p.kind === 'line') {
        if (!this.pumpLine(p)) break;
      } else if (p.kind === 'exact') {
        const n = Math.min(p.remaining, this.buffer.length);
        const piece = this.buffer.subarray(0, n);
        this.buffer = this.buffer.subarray(n);
        p.remaining -= n;
        this.deadlines.payloadAdvanced(n);
        this.deliver(p.out, piece);
        if (p.remaining === 0) this.finishPayload();
      } else {
        const res = p.decoder.push(this.buffer);
        this.buffer = this.buffer.subarray(res.consumed);
        this.deadlines.payloadAdvanced(res.consumed);
        for (const piece of res.data) {
          p.written += piece.length;
          if (p.written <= p.max) this.deliver(p.out, piece);
        }
        if (res.done) this.finishPayload();
        else if (res.consumed === 0) break;
      }
    }
    if (this.pending && !this.outputPaused) {
      // Input is over (FIN, or the peer closed with commands still buffered): what the
      // buffer could serve was served; a read it cannot satisfy fails.
      if (this.state === 'closed') this.failPending(this.closeError ?? new ChannelClosedError());
      else if (this.ended) this.shutdown(new ChannelClosedError('connection closed by peer'));
    }
    this.applyBackpressure();
  }

  /** Returns false when more input is needed. */
  private pumpLine(p: Extract<Pending, { kind: 'line' }>): boolean {
    const lf = this.buffer.indexOf(0x0a);
    if (lf === -1) {
      // A line has begun: it must end within the command deadline, however slowly it comes.
      this.deadlines.lineStarted();
      if (this.buffer.length > this.maxLineLength + 1) {
        // Keep a trailing CR: it may pair with the LF of the next packet.
        this.discardingLine = true;
        this.buffer = this.buffer.subarray(this.buffer.length - 1);
        if (this.buffer[0] !== 0x0d) this.buffer = Buffer.alloc(0);
      }
      return false;
    }
    let end = lf;
    if (end > 0 && this.buffer[end - 1] === 0x0d) end--;
    const line = this.buffer.subarray(0, end);
    this.buffer = this.buffer.subarray(lf + 1);
    this.pending = undefined;
    this.idle.clear();
    this.deadlines.lineDone();
    if (this.discardingLine || line.length > this.maxLineLength) {
      this.discardingLine = false;
      p.reject(new LineTooLongError(this.maxLineLength));
    } else {
      p.resolve(line.toString('utf8'));
    }
    return true;
  }

  /**
   * Hand a payload piece to its reader. A reader that gave up (destroyed its stream) gets
   * nothing more, and the rest of the payload is still consumed so the next command reads.
   */
  private deliver(out: PayloadOut, piece: Buffer): void {
    if (out.gone) return;
    if (!out.push(piece)) this.outputPaused = true;
  }

  private finishPayload(): void {
    const p = this.pending;
    if (!p || p.kind === 'line') return;
    this.pending = undefined;
    // The payload's last push may have filled its stream; nothing more goes there, so the
    // next read must not wait for that stream's consumer.
    this.outputPaused = false;
    this.idle.clear();
    this.deadlines.payloadDone();
    if (p.kind === 'dot' && p.written > p.max) p.out.fail(new BlockTooLargeError(p.max));
    else p.out.end();
  }

  private applyBackpressure(): void {
    const full = this.buffer.length >= this.highWaterMark || this.outputPaused;
    if (this.state !== 'open') return;
    if (full && !this.stream.isPaused()) this.stream.pause();
    else if (!full && this.stream.isPaused()) this.stream.resume();
  }

  private failPending(err: Error): void {
    const p = this.pending;
    this.pending = undefined;
    this.outputPaused = false;
    this.idle.stop();
    this.deadlines.lineDone();
    this.deadlines.payloadDone();
    if (!p) return;
    if (p.kind === 'line') p.reject(err);
    else p.out.fail(err);
  }

  private shutdown(err: Error, keepInput = true): void {
    if (!keepInput) this.buffer = Buffer.alloc(0);
    if (this.state === 'closed' || this.state === 'upgrading') return;
    this.state = 'closed';
    this.closeError = err;
    if (keepInput) {
      this.pump(); // serves what the buffer can, then fails the pending read
    } else {
      this.failPending(err);
    }
    if (!this.pending) this.idle.stop();
    this.notifyClosed();
  }

  private onCommandTimeout(): void {
    if (!this.pending) return;
    this.logger.info(
      { timeoutMs: this.deadlines.commandTimeoutMs, read: this.pending.kind },
      'command deadline passed',
    );
    this.failPending(new CommandTimeoutError(this.deadlines.commandTimeoutMs));
  }

  /**
   * A read in progress fails now (the session answers as for an idle timeout and closes); a
   * session busy elsewhere finds its next read failing. Either way it has a grace period to say
   * goodbye, after which the connection is dropped: a peer that never reads cannot hold it.
   */
  private onPreAuthTimeout(): void {
    if (this.state === 'closed') return;
    const ms = this.deadlines.preAuthTimeoutMs;
    this.logger.info({ timeoutMs: ms }, 'pre-auth deadline passed');
    if (this.pending) this.failPending(new PreAuthTimeoutError(ms));
    const grace = setTimeout(() => this.destroy(), Math.min(ms, PRE_AUTH_GRACE_MS));
    grace.unref();
    void this.closed().then(() => clearTimeout(grace));
  }

  private notifyClosed(): void {
    this.deadlines.stop();
    for (const w of this.closeWaiters.splice(0)) w();
  }
}
