/**
 * NntpServer: the ProtocolHandler behind both NNTP listeners — port 119 style with STARTTLS
 * (RFC 4642), and nntps with implicit TLS (port 563) when `ConnectionOptions.implicitTls` says so.
 */
import type { Socket } from 'node:net';
import type { ConnectionOptions, ProtocolHandler } from '@postern/core';
import { commandTable } from './commands/table.js';
import { resolveOptions, type NntpServerOptions, type ResolvedNntpOptions } from './options.js';
import { errorText } from './replies.js';
import { NntpSession, type SessionContext } from './session.js';

export class NntpServer implements ProtocolHandler {
  readonly options: ResolvedNntpOptions;
  private readonly context: SessionContext;
  private readonly sessions = new Map<NntpSession, Promise<void>>();
  private nextId = 1;
  private stopping = false;

  constructor(options: NntpServerOptions) {
    this.options = resolveOptions(options);
    this.context = { options: this.options, commands: commandTable() };
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
    let session: NntpSession;
    try {
      session = new NntpSession(socket, options.implicitTls, this.context, this.nextId++);
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
   * Stop: idle sessions are told "400 Server shutting down" and closed; a command in progress
   * (a POST being stored) is finished first; what is left at the deadline is dropped.
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
