/**
 * ImapServer: the ProtocolHandler behind both IMAP listeners — port 143 style with STARTTLS,
 * and implicit TLS (imaps, RFC 8314) when `ConnectionOptions.implicitTls` says so. Accepting,
 * connection caps and shutdown are core's ProtocolServer; this file supplies the session and
 * the per-user session count.
 */
import type { Socket } from 'node:net';
import { ProtocolServer, type ConnectionOptions, type ProtocolHandler } from '@postern/core';
import { resolveOptions, type ImapServerOptions, type ResolvedImapOptions } from './options.js';
import { ImapSession, type SessionHost } from './session.js';

export class ImapServer implements ProtocolHandler, SessionHost {
  readonly options: ResolvedImapOptions;
  private readonly server: ProtocolServer<ImapSession>;
  private readonly perUser = new Map<string, number>();

  constructor(options: ImapServerOptions) {
    this.options = resolveOptions(options);
    this.server = new ProtocolServer({
      protocol: 'imap',
      limits: this.options,
      logger: this.options.logger,
      // RFC 9051 §7.1.5 (BYE before closing) with the UNAVAILABLE response code (§7.1).
      refusal: () => '* BYE [UNAVAILABLE] Too many connections, try again later\r\n',
      createSession: (socket, start) => new ImapSession(socket, start.implicitTls, this, start.id),
    });
  }

  /** Sessions being served now. */
  get connections(): number {
    return this.server.connections;
  }

  acquireUser(user: string): boolean {
    const n = this.perUser.get(user) ?? 0;
    if (n >= this.options.maxSessionsPerUser) return false;
    this.perUser.set(user, n + 1);
    return true;
  }

  releaseUser(user: string): void {
    const n = (this.perUser.get(user) ?? 1) - 1;
    if (n <= 0) this.perUser.delete(user);
    else this.perUser.set(user, n);
  }

  handleConnection(socket: Socket, options: ConnectionOptions): Promise<void> {
    return this.server.handleConnection(socket, options);
  }

  /** Stop: sessions finish the command in progress, get "* BYE", and close; the rest are dropped at the deadline. */
  shutdown(deadlineMs: number): Promise<void> {
    return this.server.shutdown(deadlineMs);
  }
}
