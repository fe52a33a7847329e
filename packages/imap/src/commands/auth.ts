/**
 * The not-authenticated state (RFC 3501 §6.2): STARTTLS, LOGIN, AUTHENTICATE PLAIN with an
 * initial response (SASL-IR, RFC 4959). Plaintext authentication is refused before TLS
 * (LOGINDISABLED, RFC 3501 §6.2.3) unless the server allows it.
 */
import { decodeSaslPlain } from '@postern/core';
import { ImapError, bad, no } from '../errors.js';
import type { ImapSession } from '../session.js';
import type { CommandContext, Handler } from './table.js';

async function verify(
  session: ImapSession,
  username: string,
  password: string,
  mechanism: string,
): Promise<string> {
  const { store, authThrottle } = session.options;
  const ip = session.channel.remoteAddress ?? 'unknown';
  // The shared throttle counts this attempt before the check (in flight) and records its outcome.
  const verdict = await authThrottle.attempt(
    ip,
    username,
    async () => username.length <= 254 && (await store.accounts.verifyPassword(username, password)),
  );
  if (verdict.kind === 'refused') {
    // No check was made: the answer says nothing of the password. RFC 5530 UNAVAILABLE is a
    // temporary failure, so a client tries again later instead of asking for a new password.
    session.log.warn({ user: username.slice(0, 254), mechanism, reason: verdict.reason }, 'login throttled');
    throw no('too many login attempts; try again later', 'UNAVAILABLE');
  }
  if (verdict.kind === 'rejected') {
    session.authFailures++;
    // Like POP3 and SMTP: the user and (through the logger) the remote address, never the password.
    session.log.warn(
      { user: username.slice(0, 254), mechanism, failures: session.authFailures },
      'login failed',
    );
    const last = session.authFailures >= session.options.maxAuthFailures;
    // RFC 5530 AUTHENTICATIONFAILED; the session ends past the failure limit.
    throw new ImapError(
      'NO',
      last ? 'authentication failed; too many failures' : 'authentication failed',
      'AUTHENTICATIONFAILED',
      last,
    );
  }
  return (await store.accounts.resolve(username)) ?? username.toLowerCase();
}

async function loggedIn(
  ctx: CommandContext,
  username: string,
  password: string,
  mechanism: string,
): Promise<string> {
  const user = await verify(ctx.session, username, password, mechanism);
  ctx.session.loginSucceeded(user);
  ctx.session.log.info({ user }, 'logged in');
  // RFC 3501 §6.2.3 / RFC 9051 §7.1: the capabilities change after login.
  return `[CAPABILITY ${ctx.session.capabilities().join(' ')}] logged in`;
}

function requirePrivacy(session: ImapSession): void {
  if (!session.authAllowed) throw no('authentication requires TLS; use STARTTLS first', 'PRIVACYREQUIRED');
}

export const AUTH_COMMANDS: Record<string, Handler> = {
  // RFC 3501 §6.2.1: the buffered plaintext is dropped before the go-ahead, the state stays
  // not authenticated, and the client must ask CAPABILITY again.
  async STARTTLS(ctx, r) {
    r.end();
    const { session } = ctx;
    if (session.channel.isSecure) throw bad('TLS is already active');
    const { discardedBytes } = await session.channel.upgrade(
      session.options.tls.engine,
      { role: 'server', ...session.options.tls.server },
      `${ctx.tag} OK Begin TLS negotiation now\r\n`,
    );
    if (discardedBytes > 0)
      session.log.warn({ discardedBytes }, 'commands pipelined after STARTTLS were dropped');
    throw new AlreadyAnswered();
  },
  // RFC 3501 §6.2.3
  async LOGIN(ctx, r) {
    r.sp();
    const user = r.astring();
    r.sp();
    const password = r.astring();
    r.end();
    requirePrivacy(ctx.session);
    return loggedIn(ctx, user, password, 'LOGIN');
  },
  // RFC 3501 §6.2.2, RFC 4959 (initial response), RFC 4616 (PLAIN)
  async AUTHENTICATE(ctx, r) {
    r.sp();
    const mech = r.atom().toUpperCase();
    let initial: string | undefined;
    if (r.tryChar(' ')) initial = r.atom('=');
    r.end();
    if (mech !== 'PLAIN') throw no('unsupported authentication mechanism', 'CANNOT');
    requirePrivacy(ctx.session);
    let response = initial;
    if (response === undefined) {
      await ctx.session.write('+ \r\n');
      response = await ctx.session.channel.readLine();
    }
    if (response === '*') throw bad('authentication cancelled'); // RFC 3501 §6.2.2
    if (response === '=') response = ''; // RFC 4959 §3: empty initial response
    const creds = decodeSaslPlain(response);
    if (!creds) throw bad('malformed SASL PLAIN response');
    if (creds.authzid && creds.authzid.toLowerCase() !== creds.authcid.toLowerCase()) {
      throw no('authorization identity not permitted', 'AUTHORIZATIONFAILED');
    }
    return loggedIn(ctx, creds.authcid, creds.password, 'PLAIN');
  },
};

/** Thrown by a command that wrote its own tagged reply (STARTTLS). */
export class AlreadyAnswered extends Error {}
