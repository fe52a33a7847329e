/**
 * AUTH (RFC 4954) with PLAIN (RFC 4616) and LOGIN. Offered and accepted only under TLS unless
 * allowInsecureAuth; attempts are throttled (core AuthThrottle) per (user, IP), per IP and per user; nothing secret is logged.
 */
import { decodeBase64Text, decodeSaslPlain } from '@postern/core';
import type { ResolvedSmtpOptions } from './options.js';
import { SmtpError, reply, type SmtpReply } from './replies.js';

export const AUTH_MECHANISMS = ['PLAIN', 'LOGIN'] as const;

export interface AuthIo {
  send(r: SmtpReply): Promise<void>;
  readLine(): Promise<string>;
  remoteAddress: string;
}

/** RFC 4954 §4: `*` cancels the exchange. */
async function challenge(io: AuthIo, prompt: string): Promise<string> {
  await io.send(reply(334, undefined, prompt));
  const line = (await io.readLine()).trim();
  if (line === '*') throw new SmtpError(501, '5.7.0', 'Authentication cancelled');
  return line;
}

function decodeOrFail(text: string): string {
  const v = decodeBase64Text(text);
  if (v === undefined) throw new SmtpError(501, '5.5.2', 'Cannot decode the response');
  return v;
}

/** Runs the exchange; resolves to the authenticated account, or throws the reply to send. */
export async function authenticate(options: ResolvedSmtpOptions, io: AuthIo, args: string): Promise<string> {
  const [mechanism, initial, ...extra] = args.trim().split(/\s+/);
  if (!mechanism || extra.length)
    throw new SmtpError(501, '5.5.4', 'Syntax: AUTH mechanism [initial-response]');
  let authcid: string;
  let password: string;
  switch (mechanism.toUpperCase()) {
    case 'PLAIN': {
      // RFC 4954 §4: "=" is an empty initial response.
      const response = initial === undefined ? await challenge(io, '') : initial === '=' ? '' : initial;
      const creds = decodeSaslPlain(response);
      if (!creds) throw new SmtpError(501, '5.5.2', 'Malformed PLAIN response');
      if (creds.authzid && creds.authzid !== creds.authcid)
        throw new SmtpError(535, '5.7.8', 'Authentication credentials invalid');
      authcid = creds.authcid;
      password = creds.password;
      break;
    }
    case 'LOGIN': {
      authcid = decodeOrFail(initial ?? (await challenge(io, Buffer.from('Username:').toString('base64'))));
      password = decodeOrFail(await challenge(io, Buffer.from('Password:').toString('base64')));
      break;
    }
    default:
      throw new SmtpError(504, '5.5.4', `Unrecognized authentication mechanism ${mechanism.slice(0, 20)}`);
  }
  const accounts = options.store.accounts;
  let user = authcid;
  // The throttle is shared with every listener (MX, submission and the other protocols) and
  // counts this attempt while in flight. A refused attempt never reaches the store.
  const verdict = await options.authThrottle.attempt(io.remoteAddress, authcid, async () => {
    user = (await accounts.resolve(authcid)) ?? authcid;
    return accounts.verifyPassword(user, password);
  });
  if (verdict.kind === 'refused') {
    // RFC 4954 §6: 454 4.7.0, temporary authentication failure.
    options.logger.warn(
      { remote: io.remoteAddress, user: authcid, reason: verdict.reason },
      'authentication throttled',
    );
    throw new SmtpError(454, '4.7.0', 'Too many authentication attempts; try again later');
  }
  if (verdict.kind === 'rejected') {
    options.logger.warn({ remote: io.remoteAddress, user: authcid }, 'authentication failed');
    throw new SmtpError(535, '5.7.8', 'Authentication credentials invalid');
  }
  return user;
}
