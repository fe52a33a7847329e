/**
 * Pop3Server: the ProtocolHandler behind both POP3 listeners — port 110 style with STLS, and
 * implicit TLS (pop3s, RFC 8314) when `ConnectionOptions.implicitTls` says so.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions, ProtocolHandler } from '@postern/core';
import { Authenticator } from './auth.js';
import { resolveOptions, type Pop3ServerOptions, type ResolvedPop3Options } from './options.js';
import { errorText } from './replies.js';
import { Pop3Session, type SessionContext } from './session.js';

export class Pop3Server implements ProtocolHandler {
  readonly options: ResolvedPop3Options;
  private readonly context: SessionContext;
  private readonly sessions = new Map<Pop3Session, Promise<void>>();
  private nextId = 1;
  private stopping = false;

  constructor(options: Pop3ServerOptions) {
    this.options = resolveOptions(options);
    this.context = {
      options: this.options,
      authenticator: new Authenticator(this.options.store.accounts, this.options.authThrottle),
    };
  }

  /** Sessions being served now. */
  get connections(): number {
    return this.sessions.size;
  }

  async handleConnection(socket: Socket, options: ConnectionOptions): Promise<void> {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    let session: Pop3Session;
    try {
      session = new Pop3Session(socket, options.implicitTls, this.context, this.nextId++);
    } catch (err) {
      this.options.logger.error({ err: errorText(err) }, 'could not start a session');
      socket.destroy();
      return;
    }
    const done = session.run();
    this.sessions.set(session, done);
    try {
      await done;
    } finally {
      this.sessions.delete(session);
    }
  }

  /**
   * Stop: idle sessions are told "-ERR [SYS/TEMP] server shutting down" and closed; a command in
   * progress (a RETR, a QUIT's update) is finished first. Sessions still open at the deadline are
   * dropped — never through UPDATE, so nothing is deleted by a shutdown.
   */
  async shutdown(deadlineMs: number): Promise<void> {
    this.stopping = true;
    for (const session of this.sessions.keys()) session.requestStop();
    const all = Promise.all(this.sessions.values());
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, Math.max(0, deadlineMs));
    });
    await Promise.race([all, deadline]);
    clearTimeout(timer);
    for (const session of this.sessions.keys()) session.destroy();
    await all;
  }
}
