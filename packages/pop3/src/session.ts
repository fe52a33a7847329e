/**
 * One POP3 connection: greeting, the command loop, and the three states of RFC 1939 §3 driven
 * through `transition`. The maildrop is locked for the whole TRANSACTION state and released on
 * every way out; deletions reach the store only through QUIT (RFC 1939 §6).
 */
import type { Socket } from 'node:net';
import {
  ChannelClosedError,
  IdleTimeoutError,
  LineChannel,
  LineTooLongError,
  type Logger,
} from '@postern/core';
import type { MailboxLock } from '@postern/store';
import { Authenticator } from './auth.js';
import { parseCommand, type ParsedCommand } from './commands.js';
import { Maildrop } from './maildrop.js';
import type { ResolvedPop3Options } from './options.js';
import { DropConnection, errLine, errorText, okLine, Pop3Error, storeErrorCode } from './replies.js';
import { allowedIn, INITIAL_STATE, transition, type Pop3Event, type Pop3State } from './state.js';
import { AuthorizationCommands } from './authorization.js';
import { capabilities } from './capabilities.js';
import { TransactionCommands } from './transaction.js';

export interface SessionContext {
  readonly options: ResolvedPop3Options;
  readonly authenticator: Authenticator;
}

export class Pop3Session {
  readonly channel: LineChannel;
  readonly log: Logger;
  private current: Pop3State = INITIAL_STATE;
  private maildropHandle: { maildrop: Maildrop; lock: MailboxLock } | undefined;
  private errors = 0;
  private authFailures = 0;
  private stopping = false;
  private waitingForCommand = false;
  private saidGoodbye = false;
  private readonly authorization: AuthorizationCommands;
  private readonly transaction: TransactionCommands;

  constructor(
    socket: Socket,
    private readonly implicitTls: boolean,
    readonly ctx: SessionContext,
    id: number,
  ) {
    this.log = ctx.options.logger.child({
      conn: id,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
      tls: implicitTls ? 'implicit' : 'stls',
    });
    this.channel = new LineChannel(socket, {
      maxLineLength: ctx.options.maxLineLength,
      idleTimeoutMs: ctx.options.idleTimeoutMs,
      commandTimeoutMs: ctx.options.commandTimeoutMs,
      preAuthTimeoutMs: ctx.options.preAuthTimeoutMs,
      logger: this.log,
    });
    this.authorization = new AuthorizationCommands(this);
    this.transaction = new TransactionCommands(this);
  }

  get state(): Pop3State {
    return this.current;
  }

  /** Step the state machine; an illegal step is a bug and throws. */
  apply(event: Pop3Event): Pop3State {
    this.current = transition(this.current, event);
    if (event.type === 'authenticated') this.channel.authenticated();
    return this.current;
  }

  /** Authentication is offered: under TLS, or when the server allows it in plaintext. */
  get authAllowed(): boolean {
    return this.channel.isSecure || this.ctx.options.allowInsecureAuth;
  }

  get clientIp(): string {
    return this.channel.remoteAddress ?? 'unknown';
  }

  get maildrop(): Maildrop {
    if (!this.maildropHandle) throw new Error('POP3: no maildrop open');
    return this.maildropHandle.maildrop;
  }

  /** CAPA's list for the current state (RFC 2449 §5). */
  capabilityList(): string[] {
    return capabilities({
      phase: this.current.phase,
      secure: this.channel.isSecure,
      authAllowed: this.authAllowed,
      implementation: this.ctx.options.implementation || undefined,
    });
  }

  async write(data: string | Buffer): Promise<void> {
    await this.channel.write(data);
  }

  /** Count one failed login; past the limit the reply closes the session. */
  authFailure(err: Pop3Error): Pop3Error {
    this.authFailures++;
    this.log.warn({ failures: this.authFailures }, 'authentication failed');
    if (this.authFailures >= this.ctx.options.maxAuthFailures) {
      return new Pop3Error(`${err.text}; too many failures, closing connection`, {
        code: err.code,
        fatal: true,
      });
    }
    return err;
  }

  /**
   * Lock and snapshot the user's maildrop (RFC 1939 §4: the lock is taken at login, and a
   * failure leaves the session in AUTHORIZATION with nothing held).
   */
  async openMaildrop(user: string): Promise<Maildrop> {
    const { store, lockTtlMs } = this.ctx.options;
    const lock = await store.mail.tryLock(user, 'INBOX', lockTtlMs);
    if (!lock)
      throw new Pop3Error('maildrop already locked by another session', { code: 'IN-USE', counts: false });
    try {
      const maildrop = await Maildrop.open(store.mail, user);
      this.maildropHandle = { maildrop, lock };
      return maildrop;
    } catch (err) {
      await lock.release().catch(() => undefined);
      throw err;
    }
  }

  /** Graceful shutdown: finish the command in progress, say so, close. */
  requestStop(): void {
    if (this.stopping) return;
    this.stopping = true;
    if (this.waitingForCommand) void this.goodbye().catch(() => undefined);
  }

  /** Drop the connection now (shutdown deadline passed). */
  destroy(): void {
    this.channel.destroy();
  }

  /** Serve the connection until it ends. Never rejects. */
  async run(): Promise<void> {
    let reason = 'closed';
    try {
      if (this.implicitTls) {
        // RFC 8314 §3.3: the handshake comes first, nothing is said in plaintext.
        const { session } = await this.channel.upgrade(this.ctx.options.tls.engine, {
          role: 'server',
          ...this.ctx.options.tls.server,
        });
        this.log.debug(
          { version: session.version, cipher: session.cipherSuite, resumed: session.resumed },
          'TLS established',
        );
      }
      if (this.stopping) {
        await this.goodbye();
        return;
      }
      // RFC 1939 §4: the greeting. No APOP timestamp: APOP is not offered.
      await this.write(okLine(`${this.ctx.options.hostname} POP3 server ready`));
      reason = await this.loop();
    } catch (err) {
      reason = this.describe(err);
      if (err instanceof DropConnection) this.channel.destroy();
      if (!(err instanceof ChannelClosedError)) this.log.warn({ err: errorText(err) }, 'connection error');
    } finally {
      if (this.current.phase !== 'CLOSED') this.apply({ type: 'drop' });
      await this.releaseMaildrop();
      if (this.channel.isClosed) this.channel.destroy();
      else await this.channel.close();
      this.log.info({ reason }, 'connection closed');
    }
  }

  private async loop(): Promise<string> {
    while (this.current.phase !== 'CLOSED') {
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
          if (await this.refuse(new Pop3Error('line too long'))) return 'too many errors';
          continue;
        }
        if (err instanceof IdleTimeoutError) {
          // RFC 1939 §3: autologout, without entering UPDATE: nothing is deleted.
          await this.write(errLine('autologout: idle for too long')).catch(() => undefined);
          return 'autologout';
        }
        throw err;
      } finally {
        this.waitingForCommand = false;
      }
      if (this.saidGoodbye) return 'server shutdown';
      const fatal = await this.dispatch(parseCommand(line));
      if (fatal) return fatal;
    }
    return this.current.phase === 'CLOSED' && this.current.reason === 'quit' ? 'quit' : 'closed';
  }

  /** Run one command; returns a reason when the session must end. */
  private async dispatch(cmd: ParsedCommand): Promise<string | undefined> {
    try {
      const command = cmd.command;
      if (!command) throw new Pop3Error('unknown command');
      if (!allowedIn(command, this.current.phase)) {
        throw new Pop3Error(`${command} not valid in the ${this.current.phase} state`);
      }
      if (this.current.phase === 'AUTHORIZATION') await this.authorization.run(command, cmd);
      else await this.transaction.run(command, cmd);
      return undefined;
    } catch (err) {
      if (err instanceof Pop3Error) return (await this.refuse(err)) ? 'too many errors' : undefined;
      if (err instanceof DropConnection || err instanceof ChannelClosedError) throw err;
      // A SASL continuation line read inside a command hits the same limits as a command line.
      if (err instanceof LineTooLongError) {
        return (await this.refuse(new Pop3Error('line too long'))) ? 'too many errors' : undefined;
      }
      if (err instanceof IdleTimeoutError) {
        await this.write(errLine('autologout: idle for too long')).catch(() => undefined);
        return 'autologout';
      }
      // A store failure: the command fails, the session goes on (RFC 3206 §4 SYS/TEMP, SYS/PERM).
      const code = storeErrorCode(err);
      const temporary = code === undefined || code === 'UNAVAILABLE' || code === 'LOCKED' || code === 'FULL';
      this.log.error({ err: errorText(err), command: cmd.command }, 'command failed');
      const refusal = new Pop3Error(temporary ? 'temporary server error' : 'server error', {
        code: temporary ? 'SYS/TEMP' : 'SYS/PERM',
        counts: false,
      });
      return (await this.refuse(refusal)) ? 'too many errors' : undefined;
    }
  }

  /** Answer a refusal; true when the session must now end. */
  private async refuse(err: Pop3Error): Promise<boolean> {
    if (err.counts) this.errors++;
    if (err.fatal) {
      await this.write(err.reply);
      return true;
    }
    if (err.counts && this.errors >= this.ctx.options.maxErrors) {
      this.log.warn({ errors: this.errors }, 'too many errors');
      await this.write(errLine(`${err.text}; too many errors, closing connection`, err.code));
      return true;
    }
    await this.write(err.reply);
    return false;
  }

  private async goodbye(): Promise<void> {
    if (this.saidGoodbye) return;
    this.saidGoodbye = true;
    await this.write(errLine('server shutting down', 'SYS/TEMP')).catch(() => undefined);
    await this.channel.close();
  }

  private async releaseMaildrop(): Promise<void> {
    const handle = this.maildropHandle;
    this.maildropHandle = undefined;
    if (!handle) return;
    try {
      await handle.lock.release();
    } catch (err) {
      this.log.error({ err: errorText(err) }, 'maildrop lock release failed');
    }
  }

  private describe(err: unknown): string {
    if (err instanceof DropConnection) return err.message;
    if (err instanceof ChannelClosedError) return err.message;
    return 'error';
  }
}
