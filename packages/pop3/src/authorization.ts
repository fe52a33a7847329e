/**
 * The AUTHORIZATION state's commands (RFC 1939 §4, §7; RFC 2449 §5; RFC 2595 §4; RFC 5034 §4):
 * CAPA, STLS, USER, PASS, AUTH, QUIT.
 */
import { readSaslPlain } from './auth.js';
import { SASL_MECHANISMS } from './capabilities.js';
import { expectArgs, type ParsedCommand } from './commands.js';
import { DropConnection, multiLine, okLine, Pop3Error } from './replies.js';
import type { Pop3Session } from './session.js';
import type { Pop3Command } from './state.js';

/** RFC 2595 §2.2 / §4: no plaintext password before TLS unless the server was told otherwise. */
function tlsRequired(): Pop3Error {
  return new Pop3Error('authentication needs TLS: use STLS first', { counts: false });
}

export class AuthorizationCommands {
  constructor(private readonly session: Pop3Session) {}

  async run(command: Pop3Command, cmd: ParsedCommand): Promise<void> {
    switch (command) {
      case 'CAPA':
        return this.capa(cmd);
      case 'STLS':
        return this.stls(cmd);
      case 'USER':
        return this.user(cmd);
      case 'PASS':
        return this.pass(cmd);
      case 'AUTH':
        return this.auth(cmd);
      case 'QUIT':
        return this.quit(cmd);
      default:
        throw new Pop3Error(`${command} not valid in the AUTHORIZATION state`);
    }
  }

  private async capa(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 0, 0, 'CAPA');
    await this.session.write(multiLine('Capability list follows', this.session.capabilityList()));
  }

  /**
   * RFC 2595 §4. The channel drops every byte that arrived after the STLS line before replying,
   * so a command pipelined behind STLS is never executed (CVE-2021-38084), and everything learnt
   * before TLS (the USER name) is forgotten.
   */
  private async stls(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 0, 0, 'STLS');
    const s = this.session;
    if (s.channel.isSecure) throw new Pop3Error('command not permitted when TLS active');
    const { tls } = s.ctx.options;
    try {
      const { session, discardedBytes } = await s.channel.upgrade(
        tls.engine,
        { role: 'server', ...tls.server },
        okLine('Begin TLS negotiation'),
      );
      s.log.debug(
        { version: session.version, cipher: session.cipherSuite, resumed: session.resumed, discardedBytes },
        'STLS done',
      );
    } catch (err) {
      throw new DropConnection('TLS handshake failed', { cause: err });
    }
    s.apply({ type: 'reset' });
  }

  private async user(cmd: ParsedCommand): Promise<void> {
    const s = this.session;
    if (!s.authAllowed) throw tlsRequired();
    expectArgs(cmd, 1, 1, 'USER name');
    s.apply({ type: 'user', name: cmd.args[0] });
    // The same answer whether or not the user exists (RFC 1939 §13).
    await s.write(okLine('send PASS'));
  }

  private async pass(cmd: ParsedCommand): Promise<void> {
    const s = this.session;
    if (!s.authAllowed) throw tlsRequired();
    const state = s.state;
    if (state.phase !== 'AUTHORIZATION' || state.pendingUser === undefined) throw new Pop3Error('USER first');
    // RFC 1939 §7: the password is the rest of the line, spaces and all.
    if (cmd.rest === '') throw new Pop3Error('syntax: PASS string');
    // Whatever happens, a new login starts from USER again.
    s.apply({ type: 'reset' });
    await this.login(state.pendingUser, cmd.rest, 'USER');
  }

  private async auth(cmd: ParsedCommand): Promise<void> {
    const s = this.session;
    if (!s.authAllowed) throw tlsRequired();
    expectArgs(cmd, 0, 2, 'AUTH mechanism [initial-response]', Number.MAX_SAFE_INTEGER);
    s.apply({ type: 'reset' });
    if (cmd.args.length === 0) {
      // RFC 1734 clients ask "AUTH" for the list; RFC 5034 leaves this to CAPA, it costs nothing.
      await s.write(multiLine('SASL mechanisms follow', [...SASL_MECHANISMS]));
      return;
    }
    let creds;
    try {
      creds = await readSaslPlain(cmd.args[0], cmd.args[1], s.channel);
    } catch (err) {
      if (err instanceof Pop3Error && err.code === 'AUTH') throw s.authFailure(err);
      throw err;
    }
    await this.login(creds.authcid, creds.password, 'PLAIN');
  }

  /** Verify, lock and snapshot; then the TRANSACTION state (RFC 1939 §4). */
  private async login(login: string, password: string, mechanism: string): Promise<void> {
    const s = this.session;
    let user: string;
    try {
      user = await s.ctx.authenticator.verify(login, password, s.clientIp);
    } catch (err) {
      if (err instanceof Pop3Error) {
        s.log.warn({ user: login, mechanism }, 'login failed');
        throw s.authFailure(err);
      }
      throw err;
    }
    const maildrop = await s.openMaildrop(user).catch((err: unknown) => {
      if (err instanceof Pop3Error && err.code === 'IN-USE') s.log.warn({ user }, 'maildrop in use');
      throw err;
    });
    s.apply({ type: 'authenticated', user });
    const { count, octets } = maildrop.stat();
    s.log.info({ user, mechanism, messages: count }, 'login');
    await s.write(okLine(`maildrop has ${count} message${count === 1 ? '' : 's'} (${octets} octets)`));
  }

  /** RFC 1939 §4: QUIT in AUTHORIZATION just ends the session. */
  private async quit(cmd: ParsedCommand): Promise<void> {
    expectArgs(cmd, 0, 0, 'QUIT');
    const s = this.session;
    s.apply({ type: 'quit' });
    await s.write(okLine(`${s.ctx.options.hostname} POP3 server signing off`));
  }
}
