/**
 * Pop3Server: the ProtocolHandler behind both POP3 listeners — port 110 style with STLS, and
 * implicit TLS (pop3s, RFC 8314) when `ConnectionOptions.implicitTls` says so. Accepting,
 * connection caps and shutdown are core's ProtocolServer; this file supplies the session.
 */
import type { Socket } from 'node:net';
import { ProtocolServer, type ConnectionOptions, type ProtocolHandler } from '@postern/core';
import { Authenticator } from './auth.js';
import { resolveOptions, type Pop3ServerOptions, type ResolvedPop3Options } from './options.js';
import { Pop3Session, type SessionContext } from './session.js';

export class Pop3Server implements ProtocolHandler {
  readonly options: ResolvedPop3Options;
  private readonly context: SessionContext;
  private readonly server: ProtocolServer<Pop3Session>;

  constructor(options: Pop3ServerOptions) {
    this.options = resolveOptions(options);
    this.context = {
      options: this.options,
      authenticator: new Authenticator(this.options.store.accounts, this.options.authThrottle),
    };
    this.server = new ProtocolServer({
      protocol: 'pop3',
      limits: this.options,
      logger: this.options.logger,
      // RFC 3206 §4: SYS/TEMP, a transient failure worth retrying later.
      refusal: () => '-ERR [SYS/TEMP] Too many connections, try again later\r\n',
      createSession: (socket, start) => new Pop3Session(socket, start.implicitTls, this.context, start.id),
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
   * Stop: idle sessions are told "-ERR [SYS/TEMP] server shutting down" and closed; a command in
   * progress (a RETR, a QUIT's update) is finished first. Sessions still open at the deadline are
   * dropped — never through UPDATE, so nothing is deleted by a shutdown.
   */
  shutdown(deadlineMs: number): Promise<void> {
    return this.server.shutdown(deadlineMs);
  }
}
