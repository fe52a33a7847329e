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
  IdleTimeoutError,
  LineChannel,
  LineTooLongError,
  UpgradeError,
  type Logger,
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

export class NntpSession {
  readonly channel: LineChannel;
  readonly log: Logger;
  private current: NntpState = INITIAL_STATE;
  private errors = 0;
  private authFailures = 0;
  private stopping = false;
  private waitingForCommand = false;
  private saidGoodbye = false;
  /** A close started by the session itself (shutdown while idle), flushing the last reply. */
  private closing: Promise<void> | undefined;
  /** Whether the command being run has written anything yet. */
  private wroteReply = false;

  constructor(
    socket: Socket,
    private readonly implicitTls: boolean,
    readonly ctx: SessionContext,
    id: number,
  ) {
    this.log = ctx.options.logger.child({
      conn: id,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      tls: implicitTls ? 'implicit' : 'starttls',
    });
    // Replies go out as a status line and blocks in several writes: no Nagle delay between them.
    socket.setNoDelay?.(true);
    this.channel = new LineChannel(socket, {
      maxLineLength: ctx.options.maxLineLength,
      idleTimeoutMs: ctx.options.idleTimeoutMs,
      commandTimeoutMs: ctx.options.commandTimeoutMs,
      logger: this.log,
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

  /** Graceful shutdown: finish the command in progress, say so, close. */
  requestStop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.waitingForCommand) void this.goodbye();
  }

  destroy(): void {
    this.channel.destroy();
  }

  /** Serve the connection until it ends. Never rejects. */
  async run(): Promise<void> {
    let reason = 'closed';
    try {
      if (this.implicitTls) {
        // RFC 8314 §3.3 / RFC 4642 §1: nntps handshakes first; nothing is said in plaintext.
        const { session } = await this.channel.upgrade(this.ctx.options.tls.engine, {
          role: 'server',
          ...this.ctx.options.tls.server,
        });
        this.apply({ type: 'tls' });
        this.log.debug(
          { version: session.version, cipher: session.cipherSuite, resumed: session.resumed },
          'TLS established',
        );
      }
      if (this.stopping) {
        await this.goodbye();
        return;
      }
      // RFC 3977 §5.1.1: 200 when posting may be allowed (here: after authentication).
      await this.reply(200, `${this.ctx.options.hostname} Postern NNTP service ready, posting allowed`);
      reason = await this.loop();
    } catch (err) {
      reason = errorText(err);
      if (err instanceof DropConnection) this.channel.destroy();
      if (!(err instanceof ChannelClosedError)) this.log.warn({ err: errorText(err) }, 'connection error');
    } finally {
      if (this.current.open) this.apply({ type: 'close' });
      if (this.closing) await this.closing;
      else if (this.channel.isClosed) this.channel.destroy();
      else await this.channel.close();
      this.log.info({ reason }, 'connection closed');
    }
  }

  private async loop(): Promise<string> {
    while (this.current.open) {
      if (this.stopping) {
        await this.goodbye();
        return 'server shutdown';
      }
      let line: string;
      this.waitingForCommand = true;
      try {
        line = await this.channel.readLine();
      } catch (err) {
        if (err instanceof LineTooLongError) {
          if (await this.refuse(new NntpError(501, 'Command line too long'))) return 'too many errors';
          continue;
        }
        if (err instanceof IdleTimeoutError) {
          // RFC 3977 §3.1: the server may close an idle connection, saying 400 first.
          await this.reply(400, 'Idle timeout, closing connection').catch(() => undefined);
          return 'idle timeout';
        }
        throw err;
      } finally {
        this.waitingForCommand = false;
      }
      if (this.saidGoodbye) return 'server shutdown';
      const outcome = await this.dispatch(line);
      if (outcome) return outcome;
    }
    return 'quit';
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
      if (err instanceof NntpError) {
        return (await this.refuse(err)) ? (err.fatal ? err.text : 'too many errors') : undefined;
      }
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

  /** Write a refusal; true when the session must close (fatal, or too many errors). */
  private async refuse(err: NntpError): Promise<boolean> {
    if (err.counts) this.errors++;
    if (err.fatal) {
      await this.write(err.reply);
      return true;
    }
    if (this.errors >= this.ctx.options.maxErrors) {
      await this.write(err.reply);
      await this.reply(400, 'Too many errors, closing connection');
      return true;
    }
    await this.write(err.reply);
    return false;
  }

  private async goodbye(): Promise<void> {
    if (this.saidGoodbye) return;
    this.saidGoodbye = true;
    // RFC 3977 §3.2.1: 400 "service temporarily unavailable" before closing.
    await this.reply(400, 'Server shutting down').catch(() => undefined);
    // Idle in readLine: closing the channel (after the 400 is flushed) ends that read.
    if (this.waitingForCommand) this.closing = this.channel.close();
  }
}
