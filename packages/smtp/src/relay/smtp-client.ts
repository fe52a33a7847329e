/**
 * The SMTP client the relay worker delivers with: EHLO, STARTTLS through the TLS engine's
 * client side, AUTH PLAIN for smarthosts, then transactions (several per connection) with
 * per-recipient results. Bytes the server sends after its 220 to STARTTLS and before the
 * handshake are dropped by LineChannel.upgrade (CVE-2021-38371 class, response injection).
 */
import { connect as netConnect, type Socket } from 'node:net';
import type { Readable } from 'node:stream';
import {
  DotEncoder,
  LineChannel,
  silentLogger,
  type Logger,
  type TlsEngine,
  type TlsSessionInfo,
} from '@postern/core';
import { CrlfNormalizer } from './line-endings.js';
import { readReply, replyText, type SmtpReply } from './reply.js';

export type RelayTlsPolicy = 'required' | 'opportunistic' | 'off';

export interface SmtpClientOptions {
  host: string;
  port: number;
  /** Our name in EHLO. */
  heloName: string;
  engine: TlsEngine;
  tls: RelayTlsPolicy;
  /** Name to verify the certificate against (default: host). */
  serverName?: string;
  /** Trust anchors, PEM; default Node's root store. */
  ca?: string | readonly string[];
  auth?: { user: string; password: string };
  connectTimeoutMs?: number;
  /** RFC 5321 §4.5.3.2 suggests minutes; tests use less. */
  replyTimeoutMs?: number;
  logger?: Logger;
}

/** Why a delivery attempt could not go on; `permanent` decides bounce versus retry. */
export class RelayError extends Error {
  readonly code = 'RELAY';
  constructor(
    message: string,
    readonly permanent: boolean,
    readonly reply?: SmtpReply,
  ) {
    super(message);
    this.name = 'RelayError';
  }
}

export interface TransactionResult {
  /** Reply to each RCPT, by recipient. */
  recipients: Map<string, SmtpReply>;
  /** Reply to MAIL, when it was refused (then every recipient shares it). */
  mailReply?: SmtpReply;
  /** Final reply after the message, when any recipient was accepted. */
  dataReply?: SmtpReply;
}

function openSocket(host: string, port: number, timeoutMs: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = netConnect({ host, port });
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new RelayError(`connection to ${host}:${port} timed out`, false));
    }, timeoutMs);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      resolve(socket);
    });
    const onError = (err: Error) => {
      clearTimeout(timer);
      reject(new RelayError(`cannot connect to ${host}:${port}: ${err.message}`, false));
    };
    socket.once('error', onError);
  });
}

export class SmtpClient {
  private extensions = new Map<string, string>();

  private constructor(
    private readonly channel: LineChannel,
    private readonly options: SmtpClientOptions,
    private readonly logger: Logger,
  ) {}

  get tls(): TlsSessionInfo | undefined {
    return this.channel.tls;
  }

  /** Connect, greet, secure per policy, authenticate: ready for transactions. */
  static async connect(options: SmtpClientOptions): Promise<SmtpClient> {
    const socket = await openSocket(options.host, options.port, options.connectTimeoutMs ?? 30_000);
    const channel = new LineChannel(socket, {
      idleTimeoutMs: options.replyTimeoutMs ?? 300_000,
      maxLineLength: 2048,
    });
    const client = new SmtpClient(channel, options, options.logger ?? silentLogger);
    try {
      await client.handshake();
      return client;
    } catch (err) {
      channel.destroy();
      throw toRelayError(err);
    }
  }

  private async command(line: string): Promise<SmtpReply> {
    await this.channel.write(line + '\r\n');
    return readReply(this.channel);
  }

  private async ehlo(): Promise<void> {
    let reply = await this.command(`EHLO ${this.options.heloName}`);
    if (reply.code !== 250) {
      // RFC 5321 §3.2: fall back to HELO when EHLO is not understood.
      reply = await this.command(`HELO ${this.options.heloName}`);
      if (reply.code !== 250)
        throw new RelayError(`HELO refused: ${replyText(reply)}`, reply.code >= 500, reply);
      this.extensions = new Map();
      return;
    }
    this.extensions = new Map(
      reply.lines.slice(1).map((l) => {
        const [k, ...rest] = l.split(' ');
        return [k!.toUpperCase(), rest.join(' ')] as [string, string];
      }),
    );
  }

  private async handshake(): Promise<void> {
    const greeting = await readReply(this.channel);
    if (greeting.code !== 220)
      throw new RelayError(`greeting: ${replyText(greeting)}`, greeting.code >= 500, greeting);
    await this.ehlo();
    const policy = this.options.tls;
    if (policy !== 'off') {
      if (!this.extensions.has('STARTTLS')) {
        if (policy === 'required')
          throw new RelayError('TLS required but the server does not offer STARTTLS', false);
      } else {
        const go = await this.command('STARTTLS');
        if (go.code !== 220) {
          if (policy === 'required') throw new RelayError(`STARTTLS refused: ${replyText(go)}`, false, go);
        } else {
          const { session } = await this.channel.upgrade(this.options.engine, {
            role: 'client',
            serverName: this.options.serverName ?? this.options.host,
            ca: this.options.ca,
            rejectUnauthorized: policy === 'required',
          });
          if (!session.peerVerified) {
            this.logger.warn(
              { host: this.options.host, reason: session.verificationError },
              'relay: unverified TLS (opportunistic)',
            );
          }
          // RFC 3207 §4.2: forget what was learned before TLS, greet again.
          await this.ehlo();
        }
      }
    }
    if (this.options.auth) await this.authenticate(this.options.auth);
  }

  /**
   * RFC 4954: PLAIN when offered, else LOGIN. A refusal is a temporary failure whatever its
   * code: wrong smarthost credentials are the administrator's to fix, and bouncing every
   * queued message for them would lose mail (the item is deferred with the reply recorded).
   */
  private async authenticate(auth: { user: string; password: string }): Promise<void> {
    const mechs = (this.extensions.get('AUTH') ?? '').toUpperCase().split(/\s+/);
    const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
    let reply: SmtpReply;
    if (mechs.includes('PLAIN')) {
      reply = await this.command(`AUTH PLAIN ${b64(`\0${auth.user}\0${auth.password}`)}`);
    } else if (mechs.includes('LOGIN')) {
      reply = await this.command('AUTH LOGIN');
      if (reply.code === 334) reply = await this.command(b64(auth.user));
      if (reply.code === 334) reply = await this.command(b64(auth.password));
    } else {
      throw new RelayError('the smarthost offers neither AUTH PLAIN nor AUTH LOGIN', false);
    }
    if (reply.code !== 235)
      throw new RelayError(`smarthost authentication failed: ${replyText(reply)}`, false, reply);
  }

  /** The server's SIZE limit (RFC 1870), 0 when it stated none. */
  get sizeLimit(): number {
    return Number(this.extensions.get('SIZE') || 0);
  }

  /**
   * One transaction. MAIL and every RCPT go out in one write when PIPELINING is offered
   * (RFC 2920 §3.1); the message is sent only if a recipient was accepted.
   */
  async send(
    envelope: { from: string; to: string[] },
    message: () => Promise<Readable>,
    size: number,
  ): Promise<TransactionResult> {
    const params: string[] = [];
    if (this.extensions.has('SIZE')) params.push(`SIZE=${size}`);
    if (this.extensions.has('8BITMIME')) params.push('BODY=8BITMIME');
    const mail = `MAIL FROM:<${envelope.from}>${params.length ? ' ' + params.join(' ') : ''}`;
    const rcpts = envelope.to.map((r) => `RCPT TO:<${r}>`);
    const recipients = new Map<string, SmtpReply>();
    let mailReply: SmtpReply;
    if (this.extensions.has('PIPELINING')) {
      await this.channel.write([mail, ...rcpts].join('\r\n') + '\r\n');
      mailReply = await readReply(this.channel);
      for (const r of envelope.to) recipients.set(r, await readReply(this.channel));
    } else {
      mailReply = await this.command(mail);
      if (mailReply.code === 250)
        for (const [i, r] of envelope.to.entries()) recipients.set(r, await this.command(rcpts[i]!));
    }
    if (mailReply.code !== 250) {
      // With pipelining the RCPT replies were read above; without, none were sent.
      await this.command('RSET').catch(() => undefined);
      return { recipients: new Map(envelope.to.map((r) => [r, mailReply])), mailReply };
    }
    const accepted = [...recipients.values()].some((r) => r.code === 250 || r.code === 251);
    if (!accepted) {
      await this.command('RSET');
      return { recipients };
    }
    const go = await this.command('DATA');
    if (go.code !== 354) {
      for (const [r, reply] of recipients) if (reply.code < 300) recipients.set(r, go);
      return { recipients, dataReply: go };
    }
    // Line ends first, then dots: no bare CR or LF may leave a line that starts with an
    // unstuffed dot (SMTP smuggling; RFC 5321 §2.3.8, §4.5.2).
    const lines = new CrlfNormalizer();
    const encoder = new DotEncoder();
    for await (const chunk of await message()) {
      const out = encoder.encode(lines.push(chunk as Buffer));
      if (out.length) await this.channel.write(out);
    }
    const rest = encoder.encode(lines.end());
    if (rest.length) await this.channel.write(rest);
    await this.channel.write(encoder.end());
    const dataReply = await readReply(this.channel);
    return { recipients, dataReply };
  }

  async quit(): Promise<void> {
    try {
      await this.command('QUIT');
    } catch {
      // The transaction results are already known; a rude close after QUIT changes nothing.
    }
    await this.channel.close();
  }

  destroy(): void {
    this.channel.destroy();
  }
}

export function toRelayError(err: unknown): RelayError {
  if (err instanceof RelayError) return err;
  const e = err as Error;
  return new RelayError(e.message || String(err), false);
}
