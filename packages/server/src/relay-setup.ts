/**
 * The outbound relay of a gateway: a RelayWorker over the store's queue, set up from the
 * `--relay-*` settings (or the `relay` option of startGateway).
 */
import { ConfigError, type Logger, type TlsEngine } from '@postern/core';
import type { Store } from '@postern/store';
import { parseSmarthost, RelayWorker, DEFAULT_RETRY_SCHEDULE, type RelayTlsPolicy } from '@postern/smtp';

export interface RelaySettings {
  /** `host:port` of a smarthost; without it, the recipients' MX hosts. */
  smarthost?: string;
  /** `user:password` for AUTH PLAIN at the smarthost. */
  auth?: string;
  tls?: RelayTlsPolicy;
  /** Trust anchors, PEM text (default Node's root store). */
  ca?: string;
  serverName?: string;
  /** Port of MX hosts (default 25). */
  mxPort?: number;
  pollIntervalMs?: number;
  /** Delays between attempts (ms); the last repeats. */
  retryDelaysMs?: number[];
  /** Give up after this long (default 5 days). */
  maxAgeMs?: number;
}

export function createRelayWorker(
  store: Store,
  hostname: string,
  engine: TlsEngine,
  settings: RelaySettings,
  logger: Logger,
): RelayWorker {
  let smarthost;
  try {
    smarthost = settings.smarthost ? parseSmarthost(settings.smarthost, settings.auth) : undefined;
  } catch (err) {
    throw new ConfigError((err as Error).message);
  }
  if (settings.auth && !smarthost) throw new ConfigError('--relay-auth needs --relay-host');
  return new RelayWorker({
    store,
    hostname,
    engine,
    smarthost,
    tls: settings.tls,
    ca: settings.ca,
    serverName: settings.serverName,
    mxPort: settings.mxPort,
    pollIntervalMs: settings.pollIntervalMs,
    schedule: {
      delaysMs: settings.retryDelaysMs ?? DEFAULT_RETRY_SCHEDULE.delaysMs,
      maxAgeMs: settings.maxAgeMs ?? DEFAULT_RETRY_SCHEDULE.maxAgeMs,
    },
    logger,
  });
}
