/**
 * One SMTP connection: greeting, the command loop over a LineChannel, replies (held back while
 * pipelined input is waiting, RFC 2920 §3.1), STARTTLS (RFC 3207) and the session-level
 * commands. Transaction commands live in transaction.ts.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChannelClosedError,
  IdleTimeoutError,
  LineTooLongError,
  SessionSkeleton,
  type DeadlineKind,
  type LineOutcome,
  type Refusal,
  type TlsSessionInfo,
} from '@postern/core';
import { AUTH_MECHANISMS, authenticate } from './auth.js';
import type { PeerStream } from './fault-stream.js';
import { GREETING, injectedReply } from './faults.js';
import type { ResolvedSmtpOptions } from './options.js';
import { R, SmtpError, SmtpReply, reply } from './replies.js';
import { INITIAL_STATE, transition, type SmtpEvent, type SmtpState } from './state.js';
import { bdat, data, mail, rcpt } from './transaction.js';

type Outcome = 'continue' | 'quit';

const DONE: Promise<void> = Promise.resolve();

/** 5xx replies are the client's mistakes and count; `close` ends the session (RFC 5321 §3.8). */
function refusal(r: SmtpReply, close = false): Refusal {
  return { reply: r.format(), counts: r.code >= 500, fatal: close };
}

export class SmtpSession extends SessionSkeleton {
  state: SmtpState = INITIAL_STATE;
  /** The authenticated account (RFC 4954); cleared by STARTTLS. */
  user: string | undefined;
  /** Replies held back while pipelined commands wait (RFC 2920 §3.1), as the text to send. */
  private pending = '';
  readonly remoteAddress: string;

  constructor(
    socket: PeerStream,
    implicitTls: boolean,
    readonly options: ResolvedSmtpOptions,
    readonly id: string,
  ) {
    const remoteAddress = socket.remoteAddress ?? 'unknown';
    const log = options.logger.child({ conn: id, remote: `${remoteAddress}:${socket.remotePort ?? '?'}` });
    // maxErrors refusals are answered; the session ends at the one after (421 instead).
    super({
      stream: socket,
      limits: options,
      log,
      implicitTls,
      tls: options.tls,
      maxErrors: options.maxErrors + 1,
    });
    this.remoteAddress = remoteAddress;
  }

  apply(event: SmtpEvent): void {
    this.state = transition(this.state, event);
  }

  /**
   * Queue a reply; it goes out at once unless more pipelined commands are waiting. Not async
   * (nor is flush): four replies a message, each would cost two more promises for nothing.
   */
  send(r: SmtpReply, options?: { flush?: boolean }): Promise<void> {
    return this.say(r.format(), options?.flush ?? false);
  }

  protected override say(text: string, last: boolean): Promise<void> {
    this.pending += text;
    if (last || this.channel.bufferedBytes === 0) return this.flush();
    return DONE;
  }

  flush(): Promise<void> {
    if (this.pending === '') return DONE;
    const out = this.pending;
    this.pending = '';
    const delay = this.options.faults.delayMs;
    if (delay) return sleep(delay).then(() => this.channel.write(out));
    return this.channel.write(out);
  }

  readLine(): Promise<string> {
    return this.channel.readLine();
  }

  // ---- SessionSkeleton hooks ----

  protected async greet(): Promise<LineOutcome> {
    const greeting = injectedReply(this.options.faults, GREETING);
    await this.send(greeting ?? reply(220, undefined, `${this.options.hostname} ESMTP Postern`));
    if (greeting && greeting.code !== 220) {
      await this.refuseService(greeting);
      return 'service refused';
    }
    return undefined;
  }

  protected async handleLine(line: string): Promise<LineOutcome> {
    return this.execute(line);
  }

  protected lineTooLong(): Refusal {
    this.log.info({ limit: this.options.maxLineLength, reply: 500 }, 'command line too long');
    return refusal(R.lineTooLong());
  }

  protected tooManyErrors(): string {
    return R.tooManyErrors().format();
  }

  /** RFC 5321 §4.5.3.2: a timeout (inside DATA/BDAT too) ends the session; say which. */
  protected timeout(kind: DeadlineKind): string {
    if (kind === 'command') return R.commandTimeout().format();
    if (kind === 'pre-auth') return R.preAuthTimeout().format();
    return R.idle().format();
  }

  protected shuttingDown(): string {
    return R.shuttingDown().format();
  }

  protected async cleanup(): Promise<void> {
    await this.flush().catch(() => undefined);
    if (this.state.kind === 'bdat') await this.state.spool.dispose();
  }

  protected override tlsEstablished(session: TlsSessionInfo): void {
    this.log.info(
      {
        tls: session.version,
        cipher: session.cipherSuite,
        sni: session.serverName,
        resumed: session.resumed,
      },
      'implicit TLS established',
    );
  }

  protected override async failed(err: unknown): Promise<string> {
    if (!(err instanceof ChannelClosedError) && !this.isStopping) {
      this.log.info({ err: (err as Error).message }, 'session ended abnormally');
    }
    return (err as Error).message;
  }

  /**
   * RFC 5321 §3.1: after a 554 greeting the server waits for QUIT and answers anything else
   * with 503; after any other refusal (421) it closes at once.
   */
  private async refuseService(greeting: SmtpReply): Promise<void> {
    if (greeting.code !== 554) return;
    for (;;) {
      const line = await this.channel.readLine().catch((err: unknown) => {
        if (err instanceof LineTooLongError) return '';
        throw err;
      });
      if (/^QUIT\s*$/i.test(line)) {
        await this.send(reply(221, '2.0.0', `${this.options.hostname} closing connection`), { flush: true });
        return;
      }
      await this.send(reply(503, '5.5.1', 'No SMTP service here; QUIT'));
    }
  }

  private async execute(line: string): Promise<LineOutcome> {
    const sp = line.indexOf(' ');
    const verb = (sp === -1 ? line : line.slice(0, sp)).toUpperCase();
    const args = sp === -1 ? '' : line.slice(sp + 1);
    const injected = injectedReply(this.options.faults, verb);
    if (injected) {
      // RFC 3030 §2: a BDAT chunk follows its command whatever the reply; consume it.
      const size = verb === 'BDAT' ? /^\s*(\d{1,15})\b/.exec(args)?.[1] : undefined;
      if (size !== undefined) for await (const _ of this.channel.readExact(Number(size)));
      await this.send(injected);
      return undefined;
    }
    try {
      return (await this.dispatch(verb, args)) === 'quit' ? 'quit' : undefined;
    } catch (err) {
      if (err instanceof SmtpError) {
        // Never echo AUTH payloads into logs: the verb and the reply are enough.
        this.log.info(
          { command: verb, reply: err.reply.code, enhanced: err.reply.enhanced },
          'command refused',
        );
        return this.reject(refusal(err.reply, err.close));
      }
      if (err instanceof ChannelClosedError || err instanceof IdleTimeoutError) throw err;
      // An over-long AUTH continuation line (RFC 4954 §4): the channel resyncs at the next CRLF.
      if (err instanceof LineTooLongError) {
        this.log.info(
          { command: verb, limit: this.options.maxLineLength, reply: 500 },
          'continuation line too long',
        );
        return this.reject(refusal(R.lineTooLong()));
      }
      this.log.error({ command: verb, err: (err as Error).message }, 'command failed');
      await this.send(R.tempFailure().reply);
      return undefined;
    }
  }

  private async dispatch(verb: string, args: string): Promise<Outcome> {
    switch (verb) {
      case 'EHLO':
      case 'HELO':
        return this.helo(verb === 'EHLO', args.trim());
      case 'STARTTLS':
        return this.startTls(args);
      case 'AUTH':
        return this.auth(args);
      case 'MAIL':
        await mail(this, args);
        return 'continue';
      case 'RCPT':
        await rcpt(this, args);
        return 'continue';
      case 'DATA':
        await data(this, args);
        return 'continue';
      case 'BDAT':
        return bdat(this, args);
      case 'RSET':
        if (args.trim()) throw R.syntax('Syntax: RSET');
        await this.resetTransaction();
        this.apply({ type: 'rset' });
        await this.send(reply(250, '2.0.0', 'Flushed'));
        return 'continue';
      case 'NOOP':
        await this.send(R.ok());
        return 'continue';
      case 'QUIT':
        await this.send(reply(221, '2.0.0', `${this.options.hostname} closing connection`), { flush: true });
        return 'quit';
      case 'VRFY':
        // RFC 5321 §3.5.3: 252 rather than disclosing who exists.
        await this.send(
          reply(252, '2.5.0', 'Cannot VRFY user, but will accept message and attempt delivery'),
        );
        return 'continue';
      case 'EXPN':
        throw new SmtpError(502, '5.5.1', 'EXPN not available');
      case 'HELP':
        await this.send(
          reply(214, '2.0.0', 'Commands: EHLO HELO STARTTLS AUTH MAIL RCPT DATA BDAT RSET NOOP QUIT VRFY'),
        );
        return 'continue';
      default:
        throw R.unrecognized();
    }
  }

  async resetTransaction(): Promise<void> {
    if (this.state.kind === 'bdat') await this.state.spool.dispose();
  }

  private async helo(extended: boolean, name: string): Promise<Outcome> {
    if (!name || /\s/.test(name)) throw R.syntax(`Syntax: ${extended ? 'EHLO' : 'HELO'} hostname`);
    await this.resetTransaction();
    this.apply({ type: 'helo', helo: { name, extended } });
    const greeting = `${this.options.hostname} Hello ${name} [${this.remoteAddress}]`;
    if (!extended) {
      await this.send(reply(250, undefined, greeting));
      return 'continue';
    }
    const lines = [
      greeting,
      'PIPELINING',
      `SIZE ${this.options.maxMessageSize}`,
      '8BITMIME',
      'ENHANCEDSTATUSCODES',
      'SMTPUTF8',
      'CHUNKING',
      'DSN',
    ];
    if (!this.channel.isSecure) lines.push('STARTTLS');
    // RFC 4954 §4 and DESIGN.md: no AUTH on the wire before TLS, unless a test rig asked.
    if (this.channel.isSecure || this.options.allowInsecureAuth)
      lines.push(`AUTH ${AUTH_MECHANISMS.join(' ')}`);
    // RFC 2034 §3: no enhanced code on the EHLO response.
    await this.send(reply(250, undefined, lines));
    return 'continue';
  }

  private async startTls(args: string): Promise<Outcome> {
    if (args.trim()) throw R.syntax('Syntax: STARTTLS');
    if (this.channel.isSecure) throw new SmtpError(503, '5.5.1', 'TLS already active');
    if (this.options.faults.refuseStartTls) {
      await this.send(reply(454, '4.7.0', 'TLS not available now'));
      return 'continue';
    }
    await this.flush();
    const go = reply(220, '2.0.0', 'Ready to start TLS').format();
    if (this.options.faults.failHandshake) {
      await this.channel.write(go + 'this is not a TLS handshake\r\n');
      this.channel.destroy();
      return 'quit';
    }
    try {
      // RFC 3207 §4.2: whatever the client pipelined after STARTTLS is dropped by upgrade().
      const { session, discardedBytes } = await this.channel.upgrade(
        this.options.tls.engine,
        { role: 'server', ...this.options.tls.server },
        go,
      );
      this.log.info(
        {
          tls: session.version,
          cipher: session.cipherSuite,
          group: session.group,
          sni: session.serverName,
          resumed: session.resumed,
          discardedBytes,
        },
        'STARTTLS established',
      );
    } catch (err) {
      this.log.info({ err: (err as Error).message }, 'TLS handshake failed');
      return 'quit';
    }
    await this.resetTransaction();
    this.apply({ type: 'tls' });
    this.user = undefined;
    return 'continue';
  }

  private async auth(args: string): Promise<Outcome> {
    if (this.state.kind === 'connected') throw new SmtpError(503, '5.5.1', 'Send EHLO first');
    if (this.state.kind !== 'ready')
      throw new SmtpError(503, '5.5.1', 'AUTH not allowed during a mail transaction');
    if (this.user !== undefined) throw new SmtpError(503, '5.5.1', 'Already authenticated');
    if (!this.channel.isSecure && !this.options.allowInsecureAuth) {
      throw new SmtpError(538, '5.7.11', 'Encryption required for requested authentication mechanism');
    }
    this.user = await authenticate(
      this.options,
      {
        send: (r) => this.send(r, { flush: true }),
        readLine: () => this.readLine(),
        remoteAddress: this.remoteAddress,
      },
      args,
    );
    this.channel.authenticated();
    this.log.info({ user: this.user }, 'authenticated');
    await this.send(reply(235, '2.7.0', 'Authentication successful'));
    return 'continue';
  }
}
