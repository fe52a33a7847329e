/**
 * TCP listeners: one net.Server per enabled listener, each handing accepted sockets to its
 * protocol handler. Opening is all-or-nothing: if one port cannot be bound, the others are
 * closed again before the error is reported.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { ConfigError, type Logger, type ProtocolHandler } from '@postern/core';
import type { ListenerName } from './config.js';

export interface ListenerSpec {
  name: ListenerName;
  protocol: 'smtp' | 'imap' | 'pop3' | 'nntp';
  implicitTls: boolean;
  port: number;
  handler: ProtocolHandler;
}

interface OpenListener {
  spec: ListenerSpec;
  server: Server;
  port: number;
}

function listen(server: Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ port, host, exclusive: true });
  });
}

export class ListenerSet {
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly open: OpenListener[],
    private readonly host: string,
  ) {}

  /** Bind every listener or none. Throws ConfigError naming the port that failed. */
  static async open(specs: ListenerSpec[], host: string, logger: Logger): Promise<ListenerSet> {
    const opened: OpenListener[] = [];
    const set = new ListenerSet(opened, host);
    for (const spec of specs) {
      const server = createServer({ noDelay: true }, (socket) => set.accept(spec, socket, logger));
      try {
        const port = await listen(server, spec.port, host);
        opened.push({ spec, server, port });
      } catch (err) {
        await Promise.all(opened.map((o) => new Promise((r) => o.server.close(r))));
        const code = (err as NodeJS.ErrnoException).code;
        const why =
          code === 'EADDRINUSE' ? 'port in use' : code === 'EACCES' ? 'permission denied' : String(err);
        throw new ConfigError(`cannot listen for ${spec.name} on ${host}:${spec.port}: ${why}`);
      }
    }
    return set;
  }

  get ports(): Partial<Record<ListenerName, number>> {
    return Object.fromEntries(this.open.map((o) => [o.spec.name, o.port]));
  }

  /** `listening <proto> <host>:<port> (starttls|implicit tls)`, one per listener. */
  describe(): string[] {
    return this.open.map(
      (o) =>
        `listening ${o.spec.name} ${this.host}:${o.port} (${o.spec.implicitTls ? 'implicit tls' : 'starttls'})`,
    );
  }

  private accept(spec: ListenerSpec, socket: Socket, logger: Logger): void {
    this.sockets.add(socket);
    const started = Date.now();
    const remote = `${socket.remoteAddress}:${socket.remotePort}`;
    const log = logger.child({ listener: spec.name, remote });
    log.info('connection open');
    socket.once('close', () => {
      this.sockets.delete(socket);
      log.info(
        { durationMs: Date.now() - started, bytesIn: socket.bytesRead, bytesOut: socket.bytesWritten },
        'connection closed',
      );
    });
    spec.handler
      .handleConnection(socket, { implicitTls: spec.implicitTls, listener: spec.name })
      .catch((err: unknown) => {
        log.error({ err: String(err) }, 'connection handler failed');
        socket.destroy();
      });
  }

  /** Stop accepting new connections (existing ones go on). */
  async stopAccepting(): Promise<void> {
    await Promise.all(
      this.open.map(
        (o) =>
          new Promise<void>((resolve) => (o.server.listening ? o.server.close(() => resolve()) : resolve())),
      ),
    );
  }

  /** Stop accepting, let every handler finish within the deadline, then drop what remains. */
  async shutdown(deadlineMs: number): Promise<void> {
    const closing = this.stopAccepting();
    const handlers = new Set(this.open.map((o) => o.spec.handler));
    const graceful = Promise.all([...handlers].map((h) => h.shutdown(deadlineMs).catch(() => undefined)));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([graceful, new Promise((r) => (timer = setTimeout(r, deadlineMs + 100)))]);
    clearTimeout(timer);
    for (const s of this.sockets) s.destroy();
    await closing;
  }
}
