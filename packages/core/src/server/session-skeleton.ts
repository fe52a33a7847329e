/**
 * The life of one connection, the same for every protocol: implicit TLS, the greeting, the read
 * loop, over-long lines, deadlines, error counting, the shutdown goodbye and the final close.
 * A protocol's session extends SessionSkeleton and fills in the hooks (what to greet with, what
 * to do with a line, the words for each goodbye, what to release at the end) — the way Dovecot's
 * login-common gives each protocol a table of callbacks. Issue 19, "one session skeleton".
 */
import type { Duplex } from 'node:stream';
import { LineChannel, type LineChannelOptions } from '../channel/line-channel.js';
import { ChannelClosedError, IdleTimeoutError, LineTooLongError } from '../errors.js';
import type { Logger } from '../logging.js';
import type { TlsSettings } from '../protocol.js';
import type { TlsSessionInfo } from '../tls/engine.js';
import type { ServedSession } from './protocol-server.js';

/** A refused command's answer, as the error counter sees it. */
export interface Refusal {
  /** The reply, CRLF included. */
  readonly reply: string;
  /** A client mistake: counts towards `maxErrors`. */
  readonly counts: boolean;
  /** The session ends after this reply. */
  readonly fatal: boolean;
}

/** Which deadline ended the session (the `code` of the IdleTimeoutError the channel raised). */
export type DeadlineKind = 'idle' | 'command' | 'pre-auth';

/** A returned string ends the session, naming why (for the log); undefined goes on. */
export type LineOutcome = string | undefined;

/** The channel's limits a session is built with (a protocol's resolved options will do). */
export type SessionLimits = Pick<
  LineChannelOptions,
  'maxLineLength' | 'idleTimeoutMs' | 'commandTimeoutMs' | 'preAuthTimeoutMs'
>;

export interface SessionSetup {
  /** The accepted connection. */
  readonly stream: Duplex;
  readonly limits: SessionLimits;
  readonly log: Logger;
  /** RFC 8314: the TLS handshake comes before the greeting. */
  readonly implicitTls: boolean;
  readonly tls: TlsSettings;
  /** Counted refusals that end the session (the last one's reply is `tooManyErrors`). */
  readonly maxErrors: number;
}

export function deadlineKind(err: IdleTimeoutError): DeadlineKind {
  if (err.code === 'COMMAND_TIMEOUT') return 'command';
  if (err.code === 'PRE_AUTH_TIMEOUT') return 'pre-auth';
  return 'idle';
}

export abstract class SessionSkeleton<R extends Refusal = Refusal> implements ServedSession {
  readonly channel: LineChannel;
  readonly log: Logger;
  private readonly setup: SessionSetup;
  private stopping = false;
  /** Idle between commands: a shutdown may say goodbye at once. */
  private waitingForCommand = false;
  private saidGoodbye = false;
  /** Said anything yet: before the greeting a deadline closes silently (RFC 8314 §3.3). */
  private greeted = false;
  private errors = 0;
  /** The close the goodbye started, awaited before the session ends. */
  private closing: Promise<void> | undefined;

  constructor(setup: SessionSetup) {
    const { stream, limits, log } = setup;
    this.setup = setup;
    this.log = log;
    this.channel = new LineChannel(stream, {
      maxLineLength: limits.maxLineLength,
      idleTimeoutMs: limits.idleTimeoutMs,
      commandTimeoutMs: limits.commandTimeoutMs,
      preAuthTimeoutMs: limits.preAuthTimeoutMs,
      logger: log,
    });
  }

  // ---- hooks ------------------------------------------------------------------------------

  /** Say the greeting (after any implicit-TLS handshake); a returned reason ends the session. */
  protected abstract greet(): Promise<LineOutcome>;
  /** Serve one command line (reading whatever else belongs to it). */
  protected abstract handleLine(line: string): Promise<LineOutcome>;
  /** The refusal of a command line longer than the channel's limit. */
  protected abstract lineTooLong(): R;
  /** What is said instead of `last`'s reply when it is one counted error too many. */
  protected abstract tooManyErrors(last: R): string;
  /** The goodbye when a deadline ends the session. */
  protected abstract timeout(kind: DeadlineKind): string;
  /** The goodbye of a graceful shutdown. */
  protected abstract shuttingDown(): string;
  /** Release what the session holds (locks, selected mailbox, per-user slot, spools). */
  protected abstract cleanup(): Promise<void> | void;

  /** Send a reply; `last` says nothing follows it (a protocol holding replies back flushes). */
  protected say(text: string, _last: boolean): Promise<void> {
    return this.channel.write(text);
  }

  /** Implicit TLS is up. */
  protected tlsEstablished(session: TlsSessionInfo): void {
    this.log.debug(
      { version: session.version, cipher: session.cipherSuite, resumed: session.resumed },
      'TLS established',
    );
  }

  /** Called once when a graceful stop is requested, before any goodbye. */
  protected onStop(): void {}

  /** The session ended on an error other than a deadline; returns the reason to log. */
  protected async failed(err: unknown): Promise<string> {
    if (!(err instanceof ChannelClosedError)) this.log.warn({ err: describe(err) }, 'connection error');
    return describe(err);
  }

  // ---- the skeleton -----------------------------------------------------------------------

  get isStopping(): boolean {
    return this.stopping;
  }

  /** Graceful stop: an idle session says goodbye now, a busy one after its command. */
  requestStop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.onStop();
    if (this.waitingForCommand) void this.goodbye();
  }

  /** Drop the connection now (shutdown deadline passed). */
  destroy(): void {
    this.channel.destroy();
  }

  /** Serve the connection until it ends. Never rejects. */
  async run(): Promise<void> {
    let reason = 'closed';
    try {
      if (this.setup.implicitTls) {
        // RFC 8314 §3.3: the handshake comes first, nothing is said in plaintext.
        const { session } = await this.channel.upgrade(this.setup.tls.engine, {
          role: 'server',
          ...this.setup.tls.server,
        });
        this.tlsEstablished(session);
      }
      if (this.stopping) {
        await this.goodbye();
        reason = 'server shutdown';
      } else {
        this.greeted = true;
        reason = (await this.greet()) ?? (await this.loop());
      }
    } catch (err) {
      if (err instanceof IdleTimeoutError && this.greeted) {
        reason = `${deadlineKind(err)} timeout`;
        await this.say(this.timeout(deadlineKind(err)), true).catch(() => undefined);
      } else {
        reason = await this.failed(err);
      }
    } finally {
      try {
        await this.cleanup();
      } catch (err) {
        this.log.error({ err: describe(err) }, 'session cleanup failed');
      }
      if (this.closing) await this.closing;
      else if (this.channel.isClosed) this.channel.destroy();
      else await this.channel.close().catch(() => this.channel.destroy());
      this.log.info({ reason }, 'connection closed');
    }
  }

  /**
   * Answer a refusal and count it; returns a reason when the session must now end (the
   * refusal is fatal, or one counted error too many).
   */
  protected async reject(r: R): Promise<LineOutcome> {
    if (r.counts) this.errors++;
    if (r.fatal) {
      await this.say(r.reply, true);
      return 'fatal refusal';
    }
    if (r.counts && this.errors >= this.setup.maxErrors) {
      this.log.warn({ errors: this.errors }, 'too many errors');
      await this.say(this.tooManyErrors(r), true);
      return 'too many errors';
    }
    await this.say(r.reply, false);
    return undefined;
  }

  private async loop(): Promise<string> {
    for (;;) {
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
          // The channel has skipped to the next CRLF: the session goes on unless that was too many.
          const ended = await this.reject(this.lineTooLong());
          if (ended !== undefined) return ended;
          continue;
        }
        throw err;
      } finally {
        this.waitingForCommand = false;
      }
      // A shutdown said goodbye while the line was arriving: it is not served.
      if (this.saidGoodbye) return 'server shutdown';
      const ended = await this.handleLine(line);
      if (ended !== undefined) return ended;
    }
  }

  private async goodbye(): Promise<void> {
    if (this.saidGoodbye) return;
    this.saidGoodbye = true;
    await this.say(this.shuttingDown(), true).catch(() => undefined);
    // Idle in readLine: closing the channel (after the goodbye is flushed) ends that read.
    this.closing ??= this.channel.close();
    await this.closing;
  }
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
