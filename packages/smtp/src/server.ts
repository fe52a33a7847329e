/**
 * SmtpServer: the ProtocolHandler behind one SMTP listener — MX (port 25 style), submission
 * with STARTTLS (RFC 6409) or submission over implicit TLS (RFC 8314). Accepting, connection
 * caps and shutdown are core's ProtocolServer; this file supplies the session.
 */
import type { Socket } from 'node:net';
import { ProtocolServer, type ConnectionOptions, type ProtocolHandler } from '@postern/core';
import { dropAfterBytes, type PeerStream } from './fault-stream.js';
import { resolveOptions, type ResolvedSmtpOptions, type SmtpServerOptions } from './options.js';
import { reply } from './replies.js';
import { SmtpSession } from './session.js';

export class SmtpServer implements ProtocolHandler {
  readonly options: ResolvedSmtpOptions;
  private readonly server: ProtocolServer<SmtpSession>;
  private nextId = 1;

  constructor(options: SmtpServerOptions) {
    this.options = resolveOptions(options);
    // RFC 5321 §3.8: 421 instead of the greeting; RFC 3463 4.7.0, a transient security refusal.
    const refusal = reply(421, '4.7.0', 'Too many connections, try again later').format();
    this.server = new ProtocolServer({
      protocol: `smtp ${this.options.role}`,
      limits: this.options,
      logger: this.options.logger,
      refusal: () => refusal,
      createSession: (socket, start) => this.createSession(socket, start.implicitTls),
    });
  }

  get connections(): number {
    return this.server.connections;
  }

  handleConnection(socket: Socket, options: ConnectionOptions): Promise<void> {
    return this.server.handleConnection(socket, options);
  }

  /** Idle sessions get 421 4.3.2 now; a DATA in progress may finish until the deadline. */
  shutdown(deadlineMs: number): Promise<void> {
    return this.server.shutdown(deadlineMs);
  }

  private createSession(socket: Socket, implicitTls: boolean): SmtpSession {
    const drop = this.options.faults.dropAfterBytes;
    // Under the LineChannel and the TLS engine: octets on the wire, before and after STARTTLS.
    const stream: PeerStream = drop === undefined ? socket : dropAfterBytes(socket, drop);
    return new SmtpSession(
      stream,
      implicitTls,
      this.options,
      `${process.pid.toString(36)}${(this.nextId++).toString(36)}`,
    );
  }
}
