/**
 * One POP3 connection: greeting, the command loop, and the three states of RFC 1939 §3 driven
 * through `transition`. The maildrop is locked for the whole TRANSACTION state and released on
 * every way out; deletions reach the store only through QUIT (RFC 1939 §6).
 */
import type { Socket } from 'node:net';
import {
  ChannelClosedError,
  IdleTimeoutError,
  LineTooLongError,
  SessionSkeleton,
  type DeadlineKind,
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

export class Pop3Session extends SessionSkeleton<Pop3Error> {
  private current: Pop3State = INITIAL_STATE;
  private maildropHandle: { maildrop: Maildrop; lock: MailboxLock } | undefined;
  private authFailures = 0;
  private readonly authorization: AuthorizationCommands;
  private readonly transaction: TransactionCommands;

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
      tls: implicitTls ? 'implicit' : 'stls',
    });
    super({
      stream: socket,
      limits: options,
      log,
      implicitTls,
      tls: options.tls,
      maxErrors: options.maxErrors,
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

  // ---- SessionSkeleton hooks ----

  /** RFC 1939 §4: the greeting. No APOP timestamp: APOP is not offered. */
  protected async greet(): Promise<string | undefined> {
    await this.write(okLine(`${this.ctx.options.hostname} POP3 server ready`));
    return undefined;
  }

  protected async handleLine(line: string): Promise<string | undefined> {
    const ended = await this.dispatch(parseCommand(line));
    if (ended !== undefined) return ended;
    if (this.current.phase !== 'CLOSED') return undefined;
    return this.current.reason === 'quit' ? 'quit' : 'closed';
  }

  protected lineTooLong(): Pop3Error {
    return new Pop3Error('line too long');
  }

  protected tooManyErrors(last: Pop3Error): string {
    return errLine(`${last.text}; too many errors, closing connection`, last.code);
  }

  /** RFC 1939 §3: autologout, without entering UPDATE: nothing is deleted. */
  protected timeout(kind: DeadlineKind): string {
    if (kind === 'command') return errLine('autologout: command not completed in time');
    if (kind === 'pre-auth') return errLine('autologout: not logged in in time');
    return errLine('autologout: idle for too long');
  }

  protected shuttingDown(): string {
    return errLine('server shutting down', 'SYS/TEMP');
  }

  protected async cleanup(): Promise<void> {
    if (this.current.phase !== 'CLOSED') this.apply({ type: 'drop' });
    await this.releaseMaildrop();
  }

  protected override async failed(err: unknown): Promise<string> {
    if (err instanceof DropConnection) this.channel.destroy();
    if (!(err instanceof ChannelClosedError)) this.log.warn({ err: errorText(err) }, 'connection error');
    return err instanceof DropConnection || err instanceof ChannelClosedError ? err.message : 'error';
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
      if (err instanceof Pop3Error) return this.reject(err);
      // A deadline inside a command (a SASL continuation): the skeleton says goodbye.
      if (
        err instanceof DropConnection ||
        err instanceof ChannelClosedError ||
        err instanceof IdleTimeoutError
      )
        throw err;
      // A SASL continuation line read inside a command hits the same limits as a command line.
      if (err instanceof LineTooLongError) {
        return this.reject(this.lineTooLong());
      }
      // A store failure: the command fails, the session goes on (RFC 3206 §4 SYS/TEMP, SYS/PERM).
      const code = storeErrorCode(err);
      const temporary = code === undefined || code === 'UNAVAILABLE' || code === 'LOCKED' || code === 'FULL';
      this.log.error({ err: errorText(err), command: cmd.command }, 'command failed');
      const refusal = new Pop3Error(temporary ? 'temporary server error' : 'server error', {
        code: temporary ? 'SYS/TEMP' : 'SYS/PERM',
        counts: false,
      });
      return this.reject(refusal);
    }
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
}
