/**
 * The TRANSACTION state's commands (RFC 1939 §5, §7; RFC 2449 §5) and QUIT into the UPDATE
 * state (RFC 1939 §6). Message numbers refer to the snapshot taken at login.
 */
import { expectArgs, parseLineCount, parseMessageNumber, type ParsedCommand } from './commands.js';
import type { MaildropEntry } from './maildrop.js';
import { sendMessageBody, TopLimiter } from './message-output.js';
import {
  DropConnection,
  errLine,
  errorText,
  multiLine,
  okLine,
  Pop3Error,
  storeErrorCode,
} from './replies.js';
import type { Pop3Session } from './session.js';
import type { Pop3Command } from './state.js';

export class TransactionCommands {
  constructor(private readonly session: Pop3Session) {}

  async run(command: Pop3Command, cmd: ParsedCommand): Promise<void> {
    switch (command) {
      case 'CAPA':
        expectArgs(cmd, 0, 0, 'CAPA');
        return this.reply(multiLine('Capability list follows', this.session.capabilityList()));
      case 'NOOP':
        expectArgs(cmd, 0, 0, 'NOOP');
        return this.reply(okLine());
      case 'STAT':
        return this.stat(cmd);
      case 'LIST':
        return this.list(cmd);
      case 'UIDL':
        return this.uidl(cmd);
      case 'RETR':
        return this.retr(cmd);
      case 'TOP':
        return this.top(cmd);
      case 'DELE':
        return this.dele(cmd);
      case 'RSET':
        return this.rset(cmd);
      case 'QUIT':
        return this.quit(cmd);
      default:
        throw new Pop3Error(`${command} not valid in the TRANSACTION state`);
    }
  }

  private reply(text: string): Promise<void> {
    return this.session.write(text);
  }

  /** RFC 1939 §5 STAT: exactly "+OK count octets". */
  private stat(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 0, 0, 'STAT');
    const { count, octets } = this.session.maildrop.stat();
    return this.reply(okLine(`${count} ${octets}`));
  }

  /** RFC 1939 §5 LIST [msg]: scan listings "n size", deleted messages left out. */
  private list(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 0, 1, 'LIST [msg]');
    const drop = this.session.maildrop;
    if (cmd.args.length === 1) {
      const e = drop.get(parseMessageNumber(cmd.args[0]));
      return this.reply(okLine(`${e.number} ${e.size}`));
    }
    const { count, octets } = drop.stat();
    const lines = drop.visible().map((e) => `${e.number} ${e.size}`);
    return this.reply(multiLine(`${count} messages (${octets} octets)`, lines));
  }

  /** RFC 1939 §7 UIDL [msg]: "n unique-id". */
  private uidl(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 0, 1, 'UIDL [msg]');
    const drop = this.session.maildrop;
    if (cmd.args.length === 1) {
      const e = drop.get(parseMessageNumber(cmd.args[0]));
      return this.reply(okLine(`${e.number} ${e.uniqueId}`));
    }
    return this.reply(
      multiLine(
        'unique-id listing follows',
        drop.visible().map((e) => `${e.number} ${e.uniqueId}`),
      ),
    );
  }

  /** RFC 1939 §5 RETR msg: the whole message, byte-stuffed. */
  private async retr(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 1, 1, 'RETR msg');
    const entry = this.session.maildrop.get(parseMessageNumber(cmd.args[0]));
    await this.sendMessage(entry, okLine(`${entry.size} octets`));
    entry.retrieved = true;
  }

  /** RFC 1939 §7 TOP msg n: header, blank line, n lines of the body. */
  private async top(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 2, 2, 'TOP msg n');
    const entry = this.session.maildrop.get(parseMessageNumber(cmd.args[0]));
    const lines = parseLineCount(cmd.args[1]);
    await this.sendMessage(entry, okLine('top of message follows'), new TopLimiter(lines));
  }

  private async sendMessage(entry: MaildropEntry, first: string, limiter?: TopLimiter): Promise<void> {
    const s = this.session;
    const drop = s.maildrop;
    let source;
    try {
      source = await s.ctx.options.store.mail.openMessage(drop.user, drop.mailbox, entry.uid);
    } catch (err) {
      if (storeErrorCode(err) === 'NOT_FOUND') {
        // Expunged meanwhile by an IMAP session of the same user.
        throw new Pop3Error(`message ${entry.number} is no longer available`, {
          code: 'SYS/PERM',
          counts: false,
        });
      }
      throw err;
    }
    try {
      await s.write(first);
    } catch (err) {
      source.destroy();
      throw err;
    }
    try {
      await sendMessageBody(s.channel, source, limiter);
    } catch (err) {
      // "+OK" is out: no -ERR can follow, and a truncated body must not look complete.
      throw new DropConnection(`message ${entry.number} could not be sent: ${errorText(err)}`, {
        cause: err,
      });
    }
  }

  /** RFC 1939 §5 DELE msg: a mark only; the store is touched in UPDATE. */
  private dele(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 1, 1, 'DELE msg');
    const n = parseMessageNumber(cmd.args[0]);
    this.session.maildrop.markDeleted(n);
    return this.reply(okLine(`message ${n} deleted`));
  }

  /** RFC 1939 §5 RSET: every mark removed. */
  private rset(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 0, 0, 'RSET');
    const drop = this.session.maildrop;
    drop.reset();
    const { count, octets } = drop.stat();
    return this.reply(okLine(`maildrop has ${count} messages (${octets} octets)`));
  }

  /**
   * RFC 1939 §6: QUIT enters UPDATE, where the marked messages are removed — all of them or,
   * on failure, none — and the session ends either way.
   */
  private async quit(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 0, 0, 'QUIT');
    const s = this.session;
    const drop = s.maildrop;
    s.apply({ type: 'quit' });
    let reply: string;
    try {
      const { removed, missing } = await drop.commit({
        markSeen: s.ctx.options.markSeen,
        onSeenError: (err) => s.log.warn({ err: errorText(err) }, 'could not flag retrieved messages \\Seen'),
      });
      const left = drop.visible().length;
      s.log.info({ user: drop.user, deleted: removed.length, missing: missing.length }, 'update');
      reply = okLine(`${s.ctx.options.hostname} POP3 server signing off (${left} messages left)`);
    } catch (err) {
      s.log.error({ err: errorText(err), user: drop.user }, 'update failed; nothing deleted');
      reply = errLine('some deleted messages not removed', 'SYS/TEMP');
    }
    s.apply({ type: 'updated' });
    await s.write(reply);
  }
}
