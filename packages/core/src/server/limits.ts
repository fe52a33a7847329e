/**
 * The connection limits every protocol server takes (`CommonServerOptions`), resolved with the
 * protocol's own defaults.
 */
import { ConfigError } from '../errors.js';

export interface ConnectionLimitOptions {
  /** Connections served at once on one listener (default 1000). */
  maxConnections?: number;
  /** Connections served at once from one remote address, per listener (default per protocol). */
  maxConnectionsPerIp?: number;
  /**
   * A whole command line must arrive within this long of its first octet; octets trickling in
   * do not extend it (the idle timeout measures silence only). Default 60 s; 0 disables.
   */
  commandTimeoutMs?: number;
  /**
   * Connect to successful authentication, for protocols that require a login (IMAP, POP3, SMTP
   * submission). Default 60 s; 0 disables. NNTP (anonymous reading) and the SMTP MX role do
   * not apply it: they rely on the command deadline and the idle timeout.
   */
  preAuthTimeoutMs?: number;
}

export interface ResolvedConnectionLimits {
  readonly maxConnections: number;
  readonly maxConnectionsPerIp: number;
  readonly commandTimeoutMs: number;
  readonly preAuthTimeoutMs: number;
}

export const DEFAULT_MAX_CONNECTIONS = 1000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 60_000;
export const DEFAULT_PRE_AUTH_TIMEOUT_MS = 60_000;

export interface LimitDefaults {
  maxConnectionsPerIp: number;
  /** False for a listener that has no login to wait for: the pre-auth deadline is 0 (off). */
  preAuth: boolean;
}

function count(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1) throw new ConfigError(`${name} must be a positive integer`);
  return value;
}

function millis(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new ConfigError(`${name} must be 0 or more milliseconds`);
  return value;
}

export function resolveConnectionLimits(
  options: ConnectionLimitOptions,
  defaults: LimitDefaults,
): ResolvedConnectionLimits {
  return {
    maxConnections: count('maxConnections', options.maxConnections, DEFAULT_MAX_CONNECTIONS),
    maxConnectionsPerIp: count(
      'maxConnectionsPerIp',
      options.maxConnectionsPerIp,
      defaults.maxConnectionsPerIp,
    ),
    commandTimeoutMs: millis('commandTimeoutMs', options.commandTimeoutMs, DEFAULT_COMMAND_TIMEOUT_MS),
    preAuthTimeoutMs: defaults.preAuth
      ? millis('preAuthTimeoutMs', options.preAuthTimeoutMs, DEFAULT_PRE_AUTH_TIMEOUT_MS)
      : 0,
  };
}
