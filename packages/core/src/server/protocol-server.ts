/**
 * ProtocolServer: the part of every protocol server that is not the protocol. It owns the
 * session registry, the per-listener connection caps (a slot given back exactly once, however
 * the connection ends), refusals, and graceful shutdown; a protocol supplies a session factory
 * and the words it refuses a connection with. (Stalwart splits its servers the same way: a
 * session manager plus a concurrency limiter whose guard gives the slot back when dropped.)
 */
import type { Socket } from 'node:net';
import type { Logger } from '../logging.js';
import type { ConnectionOptions, ProtocolHandler } from '../protocol.js';
import { ConnectionLimiter, type ConnectionCaps, type RefusalReason } from './connection-limiter.js';
import { RefusalLog } from './refusal-log.js';

/** What a protocol session offers the server around it. */
export interface ServedSession {
  /** Serve the connection until it ends; the server logs a rejection and drops the socket. */
  run(): Promise<void>;
  /** Graceful stop: finish the command in progress, say goodbye, close. */
  requestStop(): void;
  /** Drop the connection now. */
  destroy(): void;
}

/** Facts about an accepted connection, for the session factory. */
export interface SessionStart {
  readonly implicitTls: boolean;
  /** Sequential per server, from 1. */
  readonly id: number;
  readonly remoteAddress: string;
}

export interface ProtocolServerOptions<S extends ServedSession> {
  /** For log lines ('imap', 'smtp submission', …). */
  readonly protocol: string;
  readonly limits: ConnectionCaps;
  readonly logger: Logger;
  /**
   * The line written to a refused plaintext connection, in the protocol's own words (SMTP 421,
   * IMAP `* BYE [UNAVAILABLE]`, POP3 `-ERR [SYS/TEMP]`, NNTP 400). Implicit-TLS listeners are
   * closed without a word: nothing may be said before the handshake (RFC 8314 §3.3).
   */
  readonly refusal: (reason: RefusalReason) => string;
  /** A session for an accepted connection; throwing refuses the connection (slot given back). */
  readonly createSession: (socket: Socket, start: SessionStart) => S;
}

/** A refused connection is closed once its refusal is flushed, or after this long. */
const REFUSAL_LINGER_MS = 2000;

export class ProtocolServer<S extends ServedSession> implements ProtocolHandler {
  private readonly sessions = new Map<S, Promise<void>>();
  /** One per listener: the caps are per listener. */
  private readonly limiters = new Map<string, ConnectionLimiter>();
  private readonly refusals: RefusalLog;
  private nextId = 1;
  private stopping = false;

  constructor(private readonly options: ProtocolServerOptions<S>) {
    this.refusals = new RefusalLog(options.logger);
  }

  /** Sessions being served now. */
  get connections(): number {
    return this.sessions.size;
  }

  /** Connection slots held now, all listeners together (equals `connections` between accepts). */
  get slotsInUse(): number {
    let n = 0;
    for (const limiter of this.limiters.values()) n += limiter.active;
    return n;
  }

  /** Remote addresses holding a slot now, counted once per listener. */
  get addresses(): number {
    let n = 0;
    for (const limiter of this.limiters.values()) n += limiter.addresses;
    return n;
  }

  /** The sessions being served, e.g. for a protocol's own bookkeeping. */
  activeSessions(): IterableIterator<S> {
    return this.sessions.keys();
  }

  async handleConnection(socket: Socket, options: ConnectionOptions): Promise<void> {
    // The raw socket has an error path for its whole life, whoever else listens or stops.
    socket.on('error', () => undefined);
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const ip = socket.remoteAddress ?? 'unknown';
    const slot = this.limiterFor(options).tryAcquire(ip);
    if (typeof slot === 'string') {
      this.refuse(socket, options, ip, slot);
      return;
    }
    let session: S;
    let done: Promise<void>;
    try {
      session = this.options.createSession(socket, {
        implicitTls: options.implicitTls,
        id: this.nextId++,
        remoteAddress: ip,
      });
      done = session.run();
    } catch (err) {
      slot.release();
      this.options.logger.error({ err: errorText(err), remote: ip }, 'could not start a session');
      socket.destroy();
      return;
    }
    this.sessions.set(session, done);
    try {
      await done;
    } catch (err) {
      this.options.logger.warn({ err: errorText(err), remote: ip }, 'session failed');
    } finally {
      this.sessions.delete(session);
      slot.release();
      // The session closed its channel; whatever it left open goes now.
      if (!socket.destroyed) socket.destroy();
    }
  }

  /**
   * Stop: no new connections; every session is asked to finish the command in progress, say
   * its goodbye and close; those still open at the deadline are dropped.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    this.stopping = true;
    for (const session of this.sessions.keys()) session.requestStop();
    const all = Promise.allSettled(this.sessions.values());
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadlineMs));
    });
    await Promise.race([all, deadline]);
    clearTimeout(timer);
    for (const session of this.sessions.keys()) session.destroy();
    await all;
  }

  private limiterFor(options: ConnectionOptions): ConnectionLimiter {
    const key = options.listener ?? (options.implicitTls ? 'implicit-tls' : 'plain');
    let limiter = this.limiters.get(key);
    if (!limiter) {
      limiter = new ConnectionLimiter(this.options.limits);
      this.limiters.set(key, limiter);
    }
    return limiter;
  }

  private refuse(socket: Socket, options: ConnectionOptions, ip: string, reason: RefusalReason): void {
    const limit =
      reason === 'per-ip' ? this.options.limits.maxConnectionsPerIp : this.options.limits.maxConnections;
    this.refusals.refused(
      ip,
      { protocol: this.options.protocol, listener: options.listener, limit, cap: reason },
      reason === 'per-ip' ? 'too many connections from one address' : 'too many connections',
    );
    if (options.implicitTls) {
      socket.destroy();
      return;
    }
    // The refusal, then FIN; what the client sends is drained unread (closing over unread input
    // would reset the connection and could lose the refusal). A client that does not close
    // its side is dropped after a short linger.
    const timer = setTimeout(() => socket.destroy(), REFUSAL_LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
    socket.resume();
    socket.end(this.options.refusal(reason));
  }
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
