/**
 * One NNTP connection: greeting (RFC 3977 §5.1), the command loop, and the session state of
 * state.ts. Pipelined commands (RFC 3977 §3.5) are simply read one after another; STARTTLS
 * drops whatever was pipelined behind it (RFC 4642 §2.2.2, in LineChannel.upgrade).
 */
import type { Socket } from 'node:net';
import type { Readable } from 'node:stream';
import {
  ChannelClosedError,
  DotEncoder,
  SessionSkeleton,
  UpgradeError,
  type DeadlineKind,
  type TlsSessionInfo,
} from '@postern/core';
import type { NewsStore } from '@postern/store';
import { capabilities } from './capabilities.js';
import { parseCommand, type CommandTable } from './commands.js';
import type { ResolvedNntpOptions } from './options.js';
import {
  authRequired,
  DropConnection,
  errorText,
  NntpError,
  statusLine,
  textBlock,
  unknownCommand,
} from './replies.js';
import { INITIAL_STATE, isAuthenticated, transition, type NntpEvent, type NntpState } from './state.js';

export interface SessionContext {
  readonly options: ResolvedNntpOptions;
  readonly commands: CommandTable;
}

export class NntpSession extends SessionSkeleton<NntpError> {
  private current: NntpState = INITIAL_STATE;
  private authFailures = 0;
  /** Whether the command being run has written anything yet. */
  private wroteReply = false;

  constructor(
    socket: Socket,
    implicitTls: boolean,
    readonly ctx: SessionContext,
    id: number,
  ) {
    const { options } = ctx;
    const log = options.logger.child({
      conn: id,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      tls: implicitTls ? 'implicit' : 'starttls',
    });
    // Replies go out as a status line and blocks in several writes: no Nagle delay between them.
    socket.setNoDelay?.(true);
    super({
      stream: socket,
      limits: options,
      log,
      implicitTls,
      tls: options.tls,
      maxErrors: options.maxErrors,
    });
  }

  get state(): NntpState {
    return this.current;
  }

  get options(): ResolvedNntpOptions {
    return this.ctx.options;
  }

  get news(): NewsStore {
    return this.ctx.options.store.news;
  }

  /** Step the state machine; an illegal step is a bug and throws. */
  apply(event: NntpEvent): NntpState {
    this.current = transition(this.current, event);
    return this.current;
  }

  get authenticated(): boolean {
    return isAuthenticated(this.current);
  }

  /** RFC 4643 §2.3.1 / §2.4: credentials only under TLS unless the server allows otherwise. */
  get authAllowed(): boolean {
    return this.channel.isSecure || this.ctx.options.allowInsecureAuth;
  }

  get clientIp(): string {
    return this.channel.remoteAddress ?? 'unknown';
  }

  capabilityList(): string[] {
    return capabilities({
      secure: this.channel.isSecure,
      authenticated: this.authenticated,
      authAllowed: this.authAllowed,
      implementation: this.ctx.options.implementation || undefined,
    });
  }

  /** Whether this session may read `group`: logged in, or the group is open to anonymous readers. */
  canRead(group: string): boolean {
    return this.authenticated || this.ctx.options.anonymousRead(group);
  }

  /** Reader commands with no group of their own: refused with 480 when no group is public. */
  requireReader(): void {
    if (!this.authenticated && !this.ctx.options.anonymousReadAny) throw authRequired();
  }

  /** The currently selected group, or 412 (RFC 3977 §6.1.1.2). */
  selectedGroup(): string {
    if (this.current.group === null) throw new NntpError(412, 'No newsgroup selected');
    return this.current.group;
  }

  async write(data: string | Buffer): Promise<void> {
    this.wroteReply = true;
    await this.channel.write(data);
  }

  async reply(code: number, text: string): Promise<void> {
    await this.write(statusLine(code, text));
  }

  /** A status line and a multi-line block of text lines, in one write. */
  async replyBlock(code: number, text: string, lines: Iterable<string>): Promise<void> {
    await this.write(statusLine(code, text) + textBlock(lines));
  }

  /**
   * A status line, then stored octets dot-stuffed as they stream (RFC 3977 §3.1.1). A failure
   * once the status line is out leaves the client mid-block: the connection is dropped.
   */
  async replyStream(code: number, text: string, body: Readable): Promise<void> {
    await this.write(statusLine(code, text));
    const encoder = new DotEncoder();
    try {
      for await (const chunk of body) {
        const out = encoder.encode(Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array));
        if (out.length > 0) await this.write(out);
      }
    } catch (err) {
      body.destroy();
      throw new DropConnection('article stream failed', { cause: err });
    }
    await this.write(encoder.end());
  }

  /** Count one failed login; past the limit the reply closes the session. */
  authFailure(err: NntpError): NntpError {
    this.authFailures++;
    this.log.warn({ failures: this.authFailures }, 'authentication failed');
    if (this.authFailures >= this.ctx.options.maxAuthFailures) {
      return new NntpError(err.code, `${err.text}; too many failures, closing connection`, { fatal: true });
    }
    return err;
  }

  // ---- SessionSkeleton hooks ----

  /** RFC 3977 §5.1.1: 200 when posting may be allowed (here: after authentication). */
  protected async greet(): Promise<string | undefined> {
    await this.reply(200, `${this.ctx.options.hostname} Postern NNTP service ready, posting allowed`);
    return undefined;
  }

  protected handleLine(line: string): Promise<string | undefined> {
    return this.dispatch(line);
  }

  protected lineTooLong(): NntpError {
    return new NntpError(501, 'Command line too long');
  }

  protected tooManyErrors(last: NntpError): string {
    return last.reply + statusLine(400, 'Too many errors, closing connection');
  }

  /** RFC 3977 §3.1: the server may close an idle connection, saying 400 first. */
  protected timeout(kind: DeadlineKind): string {
    if (kind === 'command') return statusLine(400, 'Command not completed in time, closing connection');
    if (kind === 'pre-auth') return statusLine(400, 'Not authenticated in time, closing connection');
    return statusLine(400, 'Idle timeout, closing connection');
  }

  /** RFC 3977 §3.2.1: 400 "service temporarily unavailable" before closing. */
  protected shuttingDown(): string {
    return statusLine(400, 'Server shutting down');
  }

  protected override say(text: string): Promise<void> {
    return this.write(text);
  }

  /** RFC 4642 §1: nntps is TLS from the first octet. */
  protected override tlsEstablished(session: TlsSessionInfo): void {
    this.apply({ type: 'tls' });
    super.tlsEstablished(session);
  }

  protected cleanup(): void {
    if (this.current.open) this.apply({ type: 'close' });
  }

  protected override async failed(err: unknown): Promise<string> {
    if (err instanceof DropConnection) this.channel.destroy();
    if (!(err instanceof ChannelClosedError)) this.log.warn({ err: errorText(err) }, 'connection error');
    return errorText(err);
  }

  /** Run one command; returns a reason when the session must end. */
  private async dispatch(line: string): Promise<string | undefined> {
    const command = parseCommand(line);
    this.wroteReply = false;
    try {
      if (!command) throw unknownCommand();
      const handler = this.ctx.commands.get(command.keyword);
      if (!handler) throw unknownCommand();
      await handler(this, command.args, line);
      return this.current.open ? undefined : 'quit';
    } catch (err) {
      if (err instanceof NntpError) return this.reject(err);
      if (err instanceof ChannelClosedError || err instanceof DropConnection || err instanceof UpgradeError)
        throw err;
      // A store failure before any reply: RFC 3977 §3.2.1 "403 internal fault", and go on.
      // Once part of a reply is out, the client cannot be resynchronised: drop.
      if (this.wroteReply) throw new DropConnection('command failed mid-reply', { cause: err });
      this.log.error({ err: errorText(err), command: command?.keyword }, 'command failed');
      await this.write(statusLine(403, 'Internal fault'));
      return undefined;
    }
  }
}
