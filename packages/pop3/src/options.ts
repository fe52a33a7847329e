/**
 * Pop3Server options: the settings every protocol takes, the store, and POP3's own limits.
 */
import {
  AuthThrottle,
  resolveConnectionLimits,
  silentLogger,
  type CommonServerOptions,
  type Logger,
  type ResolvedConnectionLimits,
} from '@postern/core';
import type { Store } from '@postern/store';

export interface Pop3ServerOptions extends CommonServerOptions {
  store: Store;
  /**
   * Autologout: close a session idle this long without entering UPDATE. RFC 1939 §3 asks for at
   * least 10 minutes, the default.
   */
  idleTimeoutMs?: number;
  /**
   * Longest command line, CRLF excluded. RFC 2449 §4 keeps commands within 255 octets, but a
   * SASL PLAIN response may carry three 255-octet fields (RFC 4616 §2) in base64, which
   * RFC 5034 §4 says must be accepted: default 2048.
   */
  maxLineLength?: number;
  /** Bad commands (unknown, wrong state, bad syntax, over-long) before the session is closed. Default 10. */
  maxErrors?: number;
  /** Failed logins in one session before it is closed. Default 3. */
  maxAuthFailures?: number;
  /** Shared failed-login throttle (per IP and per user); default: one per server. */
  authThrottle?: AuthThrottle;
  /**
   * Lease handed to the store's maildrop lock (`MailStore.tryLock`). Default: none, the lock
   * lives until the session releases it (every way out of a session does) or, with the fs
   * store, until its process is found dead. Set it for backends that need a lease (shared
   * Redis); it is not renewed, so it must exceed the longest session.
   */
  lockTtlMs?: number;
  /** Flag messages fetched with RETR \Seen at QUIT, as IMAP clients of the same INBOX expect. Default true. */
  markSeen?: boolean;
  /** CAPA IMPLEMENTATION text (RFC 2449 §6.9); '' leaves it out. Default 'Postern'. */
  implementation?: string;
}

export interface ResolvedPop3Options extends ResolvedConnectionLimits {
  readonly hostname: string;
  readonly tls: CommonServerOptions['tls'];
  readonly allowInsecureAuth: boolean;
  readonly logger: Logger;
  readonly store: Store;
  readonly idleTimeoutMs: number;
  readonly maxLineLength: number;
  readonly maxErrors: number;
  readonly maxAuthFailures: number;
  readonly authThrottle: AuthThrottle;
  readonly lockTtlMs: number | undefined;
  readonly markSeen: boolean;
  readonly implementation: string;
}

export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_MAX_LINE_LENGTH = 2048;
export const DEFAULT_MAX_ERRORS = 10;
export const DEFAULT_MAX_AUTH_FAILURES = 3;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`Pop3Server: ${name} must be a positive number`);
  return value;
}

export function resolveOptions(options: Pop3ServerOptions): ResolvedPop3Options {
  return {
    hostname: options.hostname,
    tls: options.tls,
    allowInsecureAuth: options.allowInsecureAuth ?? false,
    logger: (options.logger ?? silentLogger).child({ protocol: 'pop3' }),
    store: options.store,
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS),
    maxLineLength: positive('maxLineLength', options.maxLineLength, DEFAULT_MAX_LINE_LENGTH),
    maxErrors: positive('maxErrors', options.maxErrors, DEFAULT_MAX_ERRORS),
    maxAuthFailures: positive('maxAuthFailures', options.maxAuthFailures, DEFAULT_MAX_AUTH_FAILURES),
    authThrottle: options.authThrottle ?? new AuthThrottle(),
    lockTtlMs: options.lockTtlMs === undefined ? undefined : positive('lockTtlMs', options.lockTtlMs, 0),
    markSeen: options.markSeen ?? true,
    implementation: options.implementation ?? 'Postern',
    ...resolveConnectionLimits(options, { maxConnectionsPerIp: 50, preAuth: true }),
  };
}
