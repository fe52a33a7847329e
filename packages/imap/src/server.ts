/**
 * ImapServer: the ProtocolHandler behind both IMAP listeners — port 143 style with STARTTLS,
 * and implicit TLS (imaps, RFC 8314) when `ConnectionOptions.implicitTls` says so.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions, ProtocolHandler } from '@postern/core';
import { errorText } from './errors.js';
import { resolveOptions, type ImapServerOptions, type ResolvedImapOptions } from './options.js';
import { ImapSession, type SessionHost } from './session.js';

export class ImapServer implements ProtocolHandler, SessionHost {
  readonly options: ResolvedImapOptions;
  private readonly sessions = new Map<ImapSession, Promise<void>>();
  private readonly perUser = new Map<string, number>();
  private nextId = 1;
  private stopping = false;

  constructor(options: ImapServerOptions) {
    this.options = resolveOptions(options);
  }

  /** Sessions being served now. */
  get connections(): number {
    return this.sessions.size;
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

  async handleConnection(socket: Socket, options: ConnectionOptions): Promise<void> {
    if (this.stopping) {
      socket.destroy();
      return;
    }
    let session: ImapSession;
    try {
      session = new ImapSession(socket, options.implicitTls, this, this.nextId++);
    } catch (err) {
      this.options.logger.error({ err: errorText(err) }, 'could not start an IMAP session');
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

  /** Stop: sessions finish the command in progress, get "* BYE", and close; the rest are dropped at the deadline. */
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
