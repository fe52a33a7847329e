/**
 * SmtpServer: the ProtocolHandler behind one SMTP listener — MX (port 25 style), submission
 * with STARTTLS (RFC 6409) or submission over implicit TLS (RFC 8314).
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions, ProtocolHandler } from '@postern/core';
import { dropAfterBytes, type PeerStream } from './fault-stream.js';
import { resolveOptions, type ResolvedSmtpOptions, type SmtpServerOptions } from './options.js';
import { reply } from './replies.js';
import { SmtpSession } from './session.js';

export class SmtpServer implements ProtocolHandler {
  readonly options: ResolvedSmtpOptions;
  private readonly sessions = new Map<SmtpSession, Promise<void>>();
  private readonly perIp = new Map<string, number>();
  private nextId = 1;
  private stopping = false;

  constructor(options: SmtpServerOptions) {
    this.options = resolveOptions(options);
  }

  get connections(): number {
    return this.sessions.size;
  }

  async handleConnection(socket: Socket, options: ConnectionOptions): Promise<void> {
    socket.on('error', () => undefined);
    if (this.stopping) {
      socket.destroy();
      return;
    }
    const ip = socket.remoteAddress ?? 'unknown';
    const count = (this.perIp.get(ip) ?? 0) + 1;
    if (count > this.options.maxConnectionsPerIp) {
      this.options.logger.warn(
        { remote: ip, limit: this.options.maxConnectionsPerIp },
        'too many connections from one address',
      );
      if (options.implicitTls) socket.destroy();
      else
        socket.end(reply(421, '4.7.0', 'Too many connections from your address, try again later').format());
      return;
    }
    this.perIp.set(ip, count);
    const drop = this.options.faults.dropAfterBytes;
    // Under the LineChannel and the TLS engine: octets on the wire, before and after STARTTLS.
    const stream: PeerStream = drop === undefined ? socket : dropAfterBytes(socket, drop);
    const session = new SmtpSession(
      stream,
      options.implicitTls,
      this.options,
      `${process.pid.toString(36)}${(this.nextId++).toString(36)}`,
    );
    const done = session.run();
    this.sessions.set(session, done);
    try {
      await done;
    } finally {
      this.sessions.delete(session);
      const left = (this.perIp.get(ip) ?? 1) - 1;
      if (left <= 0) this.perIp.delete(ip);
      else this.perIp.set(ip, left);
    }
  }

  /** Idle sessions get 421 4.3.2 now; a DATA in progress may finish until the deadline. */
  async shutdown(deadlineMs: number): Promise<void> {
    this.stopping = true;
    for (const s of this.sessions.keys()) s.requestStop();
    const all = Promise.all(this.sessions.values());
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([all, new Promise<void>((r) => (timer = setTimeout(r, Math.max(0, deadlineMs))))]);
    clearTimeout(timer);
    for (const s of this.sessions.keys()) s.destroy();
    await all;
  }
}
