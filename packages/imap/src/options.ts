/** ImapServer options and their defaults. */
import {
  AuthThrottle,
  resolveConnectionLimits,
  silentLogger,
  type CommonServerOptions,
  type Logger,
  type ResolvedConnectionLimits,
} from '@postern/core';
import type { Store } from '@postern/store';

export interface ImapServerOptions extends CommonServerOptions {
  store: Store;
  /** Largest literal, i.e. the message size limit for APPEND (default 50 MiB). */
  maxLiteralSize?: number;
  /** Longest command line, literals excluded (default 64 KiB). */
  maxLineLength?: number;
  /** Autologout timer (default 30 minutes, the minimum RFC 3501 §5.4 allows). */
  idleTimeoutMs?: number;
  /** Concurrent sessions one user may hold (default 20). */
  maxSessionsPerUser?: number;
  /** BAD replies before the server disconnects (default 20). */
  maxBadCommands?: number;
  /** Failed logins per connection before it is closed (default 5). */
  maxAuthFailures?: number;
  authThrottle?: AuthThrottle;
}

export interface ResolvedImapOptions extends ResolvedConnectionLimits {
  hostname: string;
  tls: CommonServerOptions['tls'];
  allowInsecureAuth: boolean;
  logger: Logger;
  store: Store;
  maxLiteralSize: number;
  maxLineLength: number;
  idleTimeoutMs: number;
  maxSessionsPerUser: number;
  maxBadCommands: number;
  maxAuthFailures: number;
  authThrottle: AuthThrottle;
}

export function resolveOptions(o: ImapServerOptions): ResolvedImapOptions {
  return {
    hostname: o.hostname,
    tls: o.tls,
    allowInsecureAuth: o.allowInsecureAuth ?? false,
    logger: o.logger ?? silentLogger,
    store: o.store,
    maxLiteralSize: o.maxLiteralSize ?? 50 * 1024 * 1024,
    maxLineLength: o.maxLineLength ?? 64 * 1024,
    idleTimeoutMs: o.idleTimeoutMs ?? 30 * 60_000,
    maxSessionsPerUser: o.maxSessionsPerUser ?? 20,
    maxBadCommands: o.maxBadCommands ?? 20,
    maxAuthFailures: o.maxAuthFailures ?? 5,
    authThrottle: o.authThrottle ?? new AuthThrottle(),
    // Clients open several connections each (one per watched mailbox) and users share NAT.
    ...resolveConnectionLimits(o, { maxConnectionsPerIp: 50, preAuth: true }),
  };
}
