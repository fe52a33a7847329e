/**
 * STARTTLS (RFC 4642) and AUTHINFO USER/PASS and SASL PLAIN (RFC 4643).
 */
import { decodeSaslPlain, LineTooLongError } from '@postern/core';
import type { CommandHandler } from '../commands.js';
import { NntpError, notPermitted, syntaxError } from '../replies.js';
import type { NntpSession } from '../session.js';

/** RFC 4643 §2.3.1 / §2.4.1: user names and passwords are at most 255 octets. */
const MAX_CREDENTIAL = 255;

export const starttlsCommand: CommandHandler = async (s, args) => {
  if (args.length > 0) throw syntaxError();
  // RFC 4642 §2.2.1: 502 when TLS is already active or the client has authenticated.
  if (s.channel.isSecure) throw notPermitted('Already using TLS');
  if (s.authenticated) throw notPermitted('STARTTLS not allowed after authentication');
  const { engine, server } = s.options.tls;
  // RFC 4642 §2.2.2: whatever the client sent after STARTTLS is dropped unread (the upgrade
  // point does it before writing 382), and the session starts over from the greeting state.
  const { session, discardedBytes } = await s.channel.upgrade(
    engine,
    { role: 'server', ...server },
    '382 Continue with TLS negotiation\r\n',
  );
  s.apply({ type: 'tls' });
  s.log.info(
    { version: session.version, cipher: session.cipherSuite, resumed: session.resumed, discardedBytes },
    'STARTTLS',
  );
};

/** Refusals common to every AUTHINFO form (RFC 4643 §2.2, §2.3.2). */
function checkAuthAllowed(s: NntpSession): void {
  if (s.authenticated) throw notPermitted('Already authenticated');
  if (!s.authAllowed) throw new NntpError(483, 'Encryption required: use STARTTLS first');
}

async function verify(s: NntpSession, user: string, password: string): Promise<void> {
  const { authThrottle, store } = s.options;
  // The shared throttle counts the attempt while in flight; a refused one is never checked.
  const verdict = await authThrottle.attempt(s.clientIp, user, () =>
    store.accounts.verifyPassword(user, password),
  );
  if (verdict.kind === 'refused') {
    s.apply({ type: 'auth-failed' });
    s.log.warn({ user, reason: verdict.reason }, 'authentication throttled');
    // RFC 3977 §3.2.1: 403, a generic temporary failure any command may answer; RFC 4643 has
    // no temporary code of its own, and 481 would read as a wrong password.
    throw new NntpError(403, 'Too many authentication attempts; try again later');
  }
  if (verdict.kind === 'rejected') {
    s.apply({ type: 'auth-failed' });
    s.log.warn({ user }, 'login failed');
    throw s.authFailure(new NntpError(481, 'Authentication failed'));
  }
  s.apply({ type: 'authenticated', user });
  s.log.info({ user }, 'authenticated');
}

/**
 * AUTHINFO USER/PASS take the rest of the line as their argument, so that a password with
 * spaces works as newsreaders send it (INN and most servers do the same).
 */
function credentialArgument(line: string): string | undefined {
  const m = /^[ \t]*AUTHINFO[ \t]+(?:USER|PASS)[ \t](.*)$/i.exec(line);
  return m ? m[1] : undefined;
}

export const authinfoCommand: CommandHandler = async (s, args, line) => {
  if (args.length === 0) throw syntaxError();
  const sub = args[0].toUpperCase();
  if (sub === 'USER' || sub === 'PASS') {
    const value = credentialArgument(line);
    if (value === undefined || value === '' || value.length > MAX_CREDENTIAL) throw syntaxError();
    checkAuthAllowed(s);
    if (sub === 'USER') {
      s.apply({ type: 'user', user: value });
      await s.reply(381, 'Password required');
      return;
    }
    const auth = s.state.auth;
    if (auth.kind !== 'user-given')
      throw new NntpError(482, 'Authentication commands issued out of sequence');
    await verify(s, auth.user, value);
    await s.reply(281, 'Authentication accepted');
    return;
  }
  if (sub === 'SASL') {
    if (args.length < 2 || args.length > 3) throw syntaxError();
    checkAuthAllowed(s);
    if (args[1].toUpperCase() !== 'PLAIN') throw new NntpError(503, 'Mechanism not recognized');
    let response = args[2];
    if (response === undefined) {
      // RFC 4643 §2.4.1: an empty challenge is sent as "=".
      await s.reply(383, '=');
      try {
        response = await s.channel.readLine();
      } catch (err) {
        if (err instanceof LineTooLongError) {
          s.apply({ type: 'auth-failed' });
          throw syntaxError('Response too long');
        }
        throw err;
      }
      if (response.trim() === '*') {
        s.apply({ type: 'auth-failed' });
        throw new NntpError(481, 'Authentication cancelled');
      }
    }
    const creds = response.trim() === '=' ? undefined : decodeSaslPlain(response);
    if (!creds) {
      s.apply({ type: 'auth-failed' });
      throw new NntpError(504, 'Base64 encoding error'); // RFC 4643 §2.4.1
    }
    if (creds.authcid.length > MAX_CREDENTIAL || creds.password.length > MAX_CREDENTIAL) throw syntaxError();
    // No proxy authorization: an authorization identity, if given, must be the user itself.
    if (creds.authzid !== '' && creds.authzid !== creds.authcid) {
      s.apply({ type: 'auth-failed' });
      throw s.authFailure(new NntpError(481, 'Authentication failed'));
    }
    await verify(s, creds.authcid, creds.password);
    await s.reply(281, 'Authentication accepted');
    return;
  }
  throw syntaxError();
};
