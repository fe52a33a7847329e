/**
 * NntpServer: the ProtocolHandler behind both NNTP listeners — port 119 style with STARTTLS
 * (RFC 4642), and nntps with implicit TLS (port 563) when `ConnectionOptions.implicitTls` says so.
 * Accepting, connection caps and shutdown are core's ProtocolServer; this file supplies the session.
 */
import type { Socket } from 'node:net';
import { ProtocolServer, type ConnectionOptions, type ProtocolHandler } from '@postern/core';
import { commandTable } from './commands/table.js';
import { resolveOptions, type NntpServerOptions, type ResolvedNntpOptions } from './options.js';
import { NntpSession, type SessionContext } from './session.js';

export class NntpServer implements ProtocolHandler {
  readonly options: ResolvedNntpOptions;
  private readonly context: SessionContext;
  private readonly server: ProtocolServer<NntpSession>;

  constructor(options: NntpServerOptions) {
    this.options = resolveOptions(options);
    this.context = { options: this.options, commands: commandTable() };
    this.server = new ProtocolServer({
      protocol: 'nntp',
      limits: this.options,
      logger: this.options.logger,
      // RFC 3977 §5.1.1: 400 as the initial response, "service temporarily unavailable".
      refusal: () => '400 Too many connections, try again later\r\n',
      createSession: (socket, start) => new NntpSession(socket, start.implicitTls, this.context, start.id),
    });
  }

  /** Sessions being served now. */
  get connections(): number {
    return this.server.connections;
  }

  handleConnection(socket: Socket, options: ConnectionOptions): Promise<void> {
    return this.server.handleConnection(socket, options);
  }

  /**
   * Stop: idle sessions are told "400 Server shutting down" and closed; a command in progress
   * (a POST being stored) is finished first; what is left at the deadline is dropped.
   */
  shutdown(deadlineMs: number): Promise<void> {
    return this.server.shutdown(deadlineMs);
  }
}
