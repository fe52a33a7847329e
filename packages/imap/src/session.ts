/**
 * One IMAP connection: greeting, the command loop, the state machine of RFC 3501 §3 and the
 * limits (command length, literal size, bad commands, autologout). Commands live in
 * commands/*.ts; this file reads them, dispatches them, and sends the untagged updates the
 * selected mailbox has pending where RFC 3501 §7 allows them, before each tagged reply.
 */
import type { Socket } from 'node:net';
import {
  ChannelClosedError,
  IdleTimeoutError,
  LineTooLongError,
  SessionSkeleton,
  type DeadlineKind,
  type LineOutcome,
  type Refusal,
} from '@postern/core';
import { CommandReadError, PRE_AUTH_MAX_LITERAL, readCommandRest } from './command-reader.js';
import { ImapError, bad, errorText, no } from './errors.js';
import { encodeName, decodeName } from './names.js';
import type { ResolvedImapOptions } from './options.js';
import { Reader } from './parser.js';
import type { SelectedMailbox } from './selected.js';
import { allowedStates, INITIAL_STATE, transition, type ImapEvent, type ImapState } from './state.js';
import { storeRefusal } from './store-errors.js';
import type { Chunk, StreamedOctets } from './format.js';
import { COMMANDS, type CommandContext } from './commands/table.js';
import { AlreadyAnswered } from './commands/auth.js';

export interface SessionHost {
  readonly options: ResolvedImapOptions;
  /** Count a login against the per-user limit; false when the user has too many sessions. */
  acquireUser(user: string): boolean;
  releaseUser(user: string): void;
}

/** Commands during which EXPUNGE must not be sent (RFC 3501 §7.4.1). */
const NO_EXPUNGE = new Set(['FETCH', 'STORE', 'SEARCH']);

export class ImapSession extends SessionSkeleton {
  private current: ImapState = INITIAL_STATE;
  readonly enabled = new Set<string>();
  authFailures = 0;
  private loggedInUser: string | undefined;
  private signalStop: () => void = () => undefined;
  /** Resolves when a graceful shutdown is requested (ends an IDLE). */
  readonly stopRequested = new Promise<void>((resolve) => {
    this.signalStop = resolve;
  });

  constructor(
    socket: Socket,
    implicitTls: boolean,
    readonly host: SessionHost,
    id: number,
  ) {
    const { options } = host;
    const log = options.logger.child({
      conn: id,
      remote: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`,
    });
    super({
      stream: socket,
      limits: options,
      log,
      implicitTls,
      tls: options.tls,
      maxErrors: options.maxBadCommands,
    });
  }

  get options(): ResolvedImapOptions {
    return this.host.options;
  }

  get state(): ImapState {
    return this.current;
  }

  apply(event: ImapEvent): ImapState {
    if (event.type !== 'select' && this.current.kind === 'Selected') this.current.mailbox.close();
    if (event.type === 'select' && this.current.kind === 'Selected' && this.current.mailbox !== event.mailbox)
      this.current.mailbox.close();
    this.current = transition(this.current, event);
    return this.current;
  }

  get user(): string {
    const s = this.current;
    if (s.kind !== 'Authenticated' && s.kind !== 'Selected') throw new Error('not authenticated');
    return s.user;
  }

  get selected(): SelectedMailbox {
    const s = this.current;
    if (s.kind !== 'Selected') throw no('no mailbox selected');
    return s.mailbox;
  }

  get utf8(): boolean {
    return this.enabled.has('UTF8=ACCEPT');
  }

  get condstore(): boolean {
    return this.enabled.has('CONDSTORE');
  }

  /** Authentication is offered: under TLS, or when allowed in plaintext (test rigs). */
  get authAllowed(): boolean {
    return this.channel.isSecure || this.options.allowInsecureAuth;
  }

  decodeName(wire: string): string {
    return decodeName(wire, this.utf8);
  }

  encodeName(name: string): string {
    return encodeName(name, this.utf8);
  }

  /** RFC 3501 §7.2.1 and the extensions offered in this state. */
  capabilities(): string[] {
    const caps = [
      'IMAP4rev1',
      // RFC 7888 §4: before login non-synchronizing literals are bounded (LITERAL-), after it
      // they may be as large as a message (LITERAL+); capabilities may change at login.
      this.current.kind === 'NotAuthenticated' ? 'LITERAL-' : 'LITERAL+',
      'SASL-IR',
      'ID',
      'ENABLE',
      'IDLE',
      'NAMESPACE',
      'UNSELECT',
      'UIDPLUS',
      'BINARY',
      'MOVE',
      'CONDSTORE',
      'ESEARCH',
      'SPECIAL-USE',
      'LIST-EXTENDED',
      'UTF8=ACCEPT',
    ];
    if (this.current.kind === 'NotAuthenticated') {
      if (!this.channel.isSecure) caps.push('STARTTLS');
      if (this.authAllowed) caps.push('AUTH=PLAIN');
      else caps.push('LOGINDISABLED');
    }
    return caps;
  }

  async write(data: Chunk | Chunk[]): Promise<void> {
    const parts = Array.isArray(data) ? data : [data];
    let pending: Buffer[] = [];
    const flush = async () => {
      if (pending.length === 0) return;
      const buf = pending.length === 1 ? pending[0]! : Buffer.concat(pending);
      pending = [];
      await this.channel.write(buf);
    };
    for (const p of parts) {
      if (typeof p === 'string') pending.push(Buffer.from(p, 'utf8'));
      else if (Buffer.isBuffer(p)) pending.push(p);
      else {
        await flush();
        await this.writeStreamed(p);
      }
    }
    await flush();
  }

  /** A streamed literal's octets, with the channel's backpressure; never more than announced. */
  private async writeStreamed(octets: StreamedOctets): Promise<void> {
    let sent = 0;
    try {
      for await (const c of await octets.open()) {
        const b = Buffer.isBuffer(c) ? c : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
        const take = Math.min(b.length, octets.length - sent);
        if (take > 0) await this.channel.write(take === b.length ? b : b.subarray(0, take));
        sent += take;
        if (sent >= octets.length) break;
      }
    } catch (err) {
      // Mid-literal, no reply can put the protocol back in step.
      this.channel.destroy();
      throw err;
    }
    if (sent < octets.length) {
      // The literal's length is on the wire: a short message cannot be finished in protocol.
      this.channel.destroy();
      throw new Error(
        `message shorter than announced (${sent} of ${octets.length} octets); connection dropped`,
      );
    }
  }

  loginSucceeded(user: string): void {
    if (!this.host.acquireUser(user)) throw no('too many sessions for this user', 'LIMIT');
    this.loggedInUser = user;
    this.channel.authenticated();
    this.apply({ type: 'login', user });
  }

  // ---- SessionSkeleton hooks ----

  /** RFC 3501 §7.1.1: the greeting, with CAPABILITY as a response code. */
  protected async greet(): Promise<LineOutcome> {
    await this.write(
      `* OK [CAPABILITY ${this.capabilities().join(' ')}] ${this.options.hostname} IMAP4rev1 ready\r\n`,
    );
    return undefined;
  }

  /** The rest of the command (its literals), then the command itself. */
  protected async handleLine(line: string): Promise<LineOutcome> {
    if (line === '') return undefined;
    let cmd;
    try {
      const beforeLogin = this.current.kind === 'NotAuthenticated';
      cmd = await readCommandRest(this.channel, line, {
        maxLineLength: this.options.maxLineLength,
        // Issue 19: before login, nothing an anonymous client sends is held beyond a few KiB.
        maxLiteralSize: beforeLogin
          ? Math.min(PRE_AUTH_MAX_LITERAL, this.options.maxLiteralSize)
          : this.options.maxLiteralSize,
        maxLiterals: 1000,
        beforeLogin,
      });
    } catch (err) {
      if (err instanceof CommandReadError)
        return (await this.refuse(err.tag, err.error)) ? 'refused' : undefined;
      if (err instanceof LineTooLongError) return this.reject(this.lineTooLong());
      throw err;
    }
    return (await this.dispatch(cmd.tag, Reader.of(cmd, cmd.tag.length))) ? 'logout' : undefined;
  }

  protected lineTooLong(): Refusal {
    return toRefusal('*', bad('command line too long', 'TOOBIG'));
  }

  protected tooManyErrors(last: Refusal): string {
    return `${last.reply}* BYE too many invalid commands\r\n`;
  }

  protected timeout(kind: DeadlineKind): string {
    if (kind === 'command') return '* BYE command not completed in time\r\n';
    if (kind === 'pre-auth') return '* BYE not authenticated in time\r\n';
    // RFC 3501 §5.4: the autologout timer.
    return '* BYE autologout; idle for too long\r\n';
  }

  protected shuttingDown(): string {
    return '* BYE server shutting down\r\n';
  }

  /** A shutdown ends an IDLE and wakes a mailbox waiting for changes. */
  protected override onStop(): void {
    this.signalStop();
    if (this.current.kind === 'Selected') this.current.mailbox.wake();
  }

  protected cleanup(): void {
    if (this.current.kind === 'Selected') this.current.mailbox.close();
    if (this.loggedInUser) this.host.releaseUser(this.loggedInUser);
  }

  protected override async failed(err: unknown): Promise<string> {
    if (err instanceof ImapError && err.fatal) {
      await this.write(`* BYE ${err.code ? `[${err.code}] ` : ''}${err.message}\r\n`).catch(() => undefined);
      return err.message;
    }
    return super.failed(err);
  }

  /** Run one command; true when the session must end. */
  private async dispatch(tag: string, r: Reader): Promise<boolean> {
    let name = '';
    let uid = false;
    try {
      r.sp();
      name = r.atom().toUpperCase();
      if (name === 'UID') {
        // RFC 3501 §6.4.8: UID COPY / FETCH / STORE / SEARCH (and MOVE, EXPUNGE: RFC 6851, 4315).
        r.sp();
        name = r.atom().toUpperCase();
        if (!['COPY', 'FETCH', 'STORE', 'SEARCH', 'MOVE', 'EXPUNGE'].includes(name))
          throw bad(`UID ${name} is not a command`);
        uid = true;
      }
      const handler = COMMANDS[name];
      if (!handler) throw bad(`unknown command ${name}`);
      if (!allowedStates(uid ? 'UID' : name).includes(this.current.kind as never)) {
        throw bad(`${name} not allowed in the ${this.current.kind} state`);
      }
      const ctx: CommandContext = { tag, name, uid, session: this };
      const ok = await handler(ctx, r);
      if (this.current.kind === 'Logout') {
        await this.write(`${tag} OK LOGOUT completed\r\n`);
        return true;
      }
      await this.flushUpdates(!uid && NO_EXPUNGE.has(name), uid);
      await this.write(`${tag} OK ${ok ?? `${name} completed`}\r\n`);
      return false;
    } catch (err) {
      // A deadline inside a command: the skeleton says goodbye in its words.
      if (err instanceof ChannelClosedError || err instanceof IdleTimeoutError) throw err;
      if (err instanceof AlreadyAnswered) return false;
      if (err instanceof LineTooLongError) return this.refuse(tag, bad('line too long', 'TOOBIG'));
      const refusal = storeRefusal(err);
      if (!refusal) {
        this.log.error({ err: errorText(err), command: name }, 'command failed');
        return this.refuse(tag, no('internal server error', 'SERVERBUG'));
      }
      if (refusal.fatal) {
        await this.write(refusal.reply(tag));
        throw refusal; // run() says BYE and closes
      }
      if (refusal.status === 'NO' && this.current.kind === 'Selected') {
        await this.flushUpdates(!uid && NO_EXPUNGE.has(name), uid).catch(() => undefined);
      }
      return this.refuse(tag, refusal);
    }
  }

  /** Send the selected mailbox's pending updates (RFC 3501 §7: before the tagged reply). */
  async flushUpdates(forbidExpunge: boolean, withUid: boolean): Promise<void> {
    if (this.current.kind !== 'Selected') return;
    const lines = await this.current.mailbox.sync({
      allowExpunge: !forbidExpunge,
      withUid,
      condstore: this.condstore,
    });
    if (lines.length) await this.write(lines);
  }

  /** Answer a refusal; true when the session must end (too many BADs, or fatal). */
  private async refuse(tag: string, err: ImapError): Promise<boolean> {
    return (await this.reject(toRefusal(tag, err))) !== undefined;
  }
}

/** Only BAD counts towards maxBadCommands; a fatal refusal is followed by BYE. */
function toRefusal(tag: string, err: ImapError): Refusal {
  const bye = err.fatal ? `* BYE ${err.code ? `[${err.code}] ` : ''}closing the connection\r\n` : '';
  return { reply: err.reply(tag) + bye, counts: err.status === 'BAD', fatal: err.fatal };
}
