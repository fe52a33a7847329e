/**
 * Authentication: USER/PASS (RFC 1939 §7) and AUTH PLAIN (RFC 5034 §4, RFC 4616), both ending
 * in one check against the accounts with the shared failure throttle. Failures answer
 * `-ERR [AUTH]` (RFC 3206 §5) and never say whether the user exists. Passwords and SASL
 * payloads are never logged.
 */
import { decodeSaslPlain, type AuthThrottle, type PlainCredentials } from '@postern/core';
import type { Accounts } from '@postern/store';
import { Pop3Error } from './replies.js';
import { SASL_MECHANISMS } from './capabilities.js';

/** Answer to an authentication failure: counted by the session's failure limit, not its error limit. */
export function authFailed(): Pop3Error {
  return new Pop3Error('authentication failed', { code: 'AUTH', counts: false });
}

export class Authenticator {
  constructor(
    private readonly accounts: Accounts,
    private readonly throttle: AuthThrottle,
  ) {}

  /**
   * Verify a login; resolves to the store's user name or throws `-ERR [AUTH]`. The shared
   * throttle counts the attempt while it is in flight; a refused attempt is never checked and
   * answers `-ERR [SYS/TEMP]` (RFC 3206 §4: try again later), so a client does not take it for
   * a wrong password.
   */
  async verify(login: string, password: string, clientIp: string): Promise<string> {
    const verdict = await this.throttle.attempt(clientIp, login, () =>
      this.accounts.verifyPassword(login, password),
    );
    if (verdict.kind === 'refused') {
      throw new Pop3Error('too many login attempts; try again later', { code: 'SYS/TEMP', counts: false });
    }
    if (verdict.kind === 'rejected') throw authFailed();
    // The maildrop is the resolved local user's, never a name the client chose as it is.
    const user = await this.accounts.resolve(login);
    if (user === undefined) throw authFailed();
    return user;
  }
}

/** The line-level half of a SASL exchange (a LineChannel). */
export interface SaslTransport {
  readLine(): Promise<string>;
  write(data: string): Promise<void>;
}

/**
 * Run `AUTH mechanism [initial-response]` (RFC 5034 §4) to the point of credentials. Throws
 * Pop3Error for a cancelled exchange, an unknown mechanism or a malformed response.
 */
export async function readSaslPlain(
  mechanism: string,
  initialResponse: string | undefined,
  transport: SaslTransport,
): Promise<PlainCredentials> {
  if (!(SASL_MECHANISMS as readonly string[]).includes(mechanism.toUpperCase())) {
    throw new Pop3Error('unsupported authentication mechanism');
  }
  let response = initialResponse;
  if (response === undefined) {
    // RFC 5034 §4: an empty server challenge is "+ " followed by CRLF.
    await transport.write('+ \r\n');
    response = await transport.readLine();
    // RFC 5034 §4: "*" cancels the exchange.
    if (response.trim() === '*') throw new Pop3Error('authentication cancelled', { counts: false });
  } else if (response === '=') {
    // RFC 5034 §4: "=" is an initial response of zero length.
    response = '';
  }
  const creds = decodeSaslPlain(response);
  if (!creds) throw new Pop3Error('malformed SASL PLAIN response', { counts: false, code: 'AUTH' });
  // No proxy authorization: an authzid must name the authenticating user itself (RFC 4616 §2).
  if (creds.authzid !== '' && creds.authzid.toLowerCase() !== creds.authcid.toLowerCase()) throw authFailed();
  return creds;
}
