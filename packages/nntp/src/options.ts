/**
 * NntpServer options: the settings every protocol takes, the store, and NNTP's own limits.
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
import { compileWildmat } from './wildmat.js';

/**
 * Who may read without logging in: `true` (every group, the default), `false` (nobody), a
 * wildmat of the public groups (RFC 3977 §4, e.g. `"comp.*,!comp.private.*"`), or a predicate.
 */
export type AnonymousReadPolicy = boolean | string | ((group: string) => boolean);

export interface NntpServerOptions extends CommonServerOptions {
  store: Store;
  /** Largest article POST or IHAVE accepts, in octets after dot-unstuffing. Default 10 MiB. */
  maxArticleSize?: number;
  /** Close a session idle this long (RFC 3977 §3.1 asks for at least 3 minutes). Default 10 minutes. */
  idleTimeoutMs?: number;
  /**
   * Longest command line, CRLF excluded. RFC 3977 §3.1 caps commands at 512 octets, but an
   * AUTHINFO SASL initial response may be longer (RFC 4643 §2.4.1): default 2048.
   */
  maxLineLength?: number;
  /** Anonymous reading. Default true. */
  anonymousRead?: AnonymousReadPolicy;
  /** Bad commands (500, 501, over-long lines) before the session is closed with 400. Default 10. */
  maxErrors?: number;
  /** Failed logins in one session before it is closed. Default 3. */
  maxAuthFailures?: number;
  /** Shared failed-login throttle (per IP and per user); default: one per server. */
  authThrottle?: AuthThrottle;
  /** Most groups one article may be posted to (RFC 5536 §3.1.4 Newsgroups). Default 50. */
  maxCrossPosts?: number;
  /** Mail each posted article to its groups' subscribers through the queue. Default true. */
  gateway?: boolean;
  /** CAPABILITIES IMPLEMENTATION text (RFC 3977 §5.2.2); '' leaves it out. Default 'Postern'. */
  implementation?: string;
}

export interface ResolvedNntpOptions extends ResolvedConnectionLimits {
  readonly hostname: string;
  readonly tls: CommonServerOptions['tls'];
  readonly allowInsecureAuth: boolean;
  readonly logger: Logger;
  readonly store: Store;
  readonly maxArticleSize: number;
  readonly idleTimeoutMs: number;
  readonly maxLineLength: number;
  readonly anonymousRead: (group: string) => boolean;
  /** Whether some group may be read without logging in. */
  readonly anonymousReadAny: boolean;
  readonly maxErrors: number;
  readonly maxAuthFailures: number;
  readonly authThrottle: AuthThrottle;
  readonly maxCrossPosts: number;
  readonly gateway: boolean;
  readonly implementation: string;
}

export const DEFAULT_MAX_ARTICLE_SIZE = 10 * 1024 * 1024;
export const DEFAULT_IDLE_TIMEOUT_MS = 10 * 60_000;
export const DEFAULT_MAX_LINE_LENGTH = 2048;
export const DEFAULT_MAX_ERRORS = 10;
export const DEFAULT_MAX_AUTH_FAILURES = 3;
export const DEFAULT_MAX_CROSS_POSTS = 50;

function positive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0)
    throw new RangeError(`NntpServer: ${name} must be a positive number`);
  return value;
}

function readPolicy(policy: AnonymousReadPolicy | undefined): {
  fn: (group: string) => boolean;
  any: boolean;
} {
  if (policy === undefined || policy === true) return { fn: () => true, any: true };
  if (policy === false) return { fn: () => false, any: false };
  if (typeof policy === 'string') {
    const match = compileWildmat(policy);
    if (!match) throw new RangeError(`NntpServer: anonymousRead is not a valid wildmat: ${policy}`);
    return { fn: match, any: true };
  }
  return { fn: policy, any: true };
}

export function resolveOptions(options: NntpServerOptions): ResolvedNntpOptions {
  if (!options.store) throw new TypeError('NntpServer: a store is required');
  const read = readPolicy(options.anonymousRead);
  return {
    hostname: options.hostname,
    tls: options.tls,
    allowInsecureAuth: options.allowInsecureAuth ?? false,
    logger: (options.logger ?? silentLogger).child({ protocol: 'nntp' }),
    store: options.store,
    maxArticleSize: positive('maxArticleSize', options.maxArticleSize, DEFAULT_MAX_ARTICLE_SIZE),
    idleTimeoutMs: positive('idleTimeoutMs', options.idleTimeoutMs, DEFAULT_IDLE_TIMEOUT_MS),
    maxLineLength: positive('maxLineLength', options.maxLineLength, DEFAULT_MAX_LINE_LENGTH),
    anonymousRead: read.fn,
    anonymousReadAny: read.any,
    maxErrors: positive('maxErrors', options.maxErrors, DEFAULT_MAX_ERRORS),
    maxAuthFailures: positive('maxAuthFailures', options.maxAuthFailures, DEFAULT_MAX_AUTH_FAILURES),
    authThrottle: options.authThrottle ?? new AuthThrottle(),
    maxCrossPosts: positive('maxCrossPosts', options.maxCrossPosts, DEFAULT_MAX_CROSS_POSTS),
    gateway: options.gateway ?? true,
    implementation: options.implementation ?? 'Postern',
    // Reading may be anonymous (RFC 3977 §3.1): no login to wait for, so no pre-auth deadline;
    // the command deadline and the idle timeout bound a connection that never logs in.
    ...resolveConnectionLimits(options, { maxConnectionsPerIp: 50, preAuth: false }),
  };
}
