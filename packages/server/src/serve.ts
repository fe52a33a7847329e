/**
 * `postern serve`: settings → certificate → store → listeners; SIGTERM/SIGINT stop accepting,
 * let in-flight commands finish within the deadline, and exit 0.
 */
import { appendFileSync, mkdirSync, readFileSync } from 'node:fs';
import { ConfigError } from '@postern/core';
import { loadConfigFile, mergeSettings, type FileSettings } from './config.js';
import { startGateway } from './gateway.js';
import { createLogger } from './logger.js';
import { createEngine, loadCertificateFiles, loadOrCreateSelfSigned } from './tls-setup.js';

function readPem(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`--relay-ca ${path}: cannot read (${(err as NodeJS.ErrnoException).code})`);
  }
}

export async function runServe(flags: Record<string, unknown>): Promise<void> {
  const file: FileSettings = typeof flags.config === 'string' ? loadConfigFile(flags.config) : {};
  const { config: _config, ...rest } = flags;
  const settings = mergeSettings(file, rest);
  const logger = createLogger(settings.logLevel);

  try {
    mkdirSync(settings.dataDir, { recursive: true });
  } catch (err) {
    throw new ConfigError(
      `--data-dir ${settings.dataDir}: cannot create (${(err as NodeJS.ErrnoException).code})`,
    );
  }
  const certified =
    settings.cert && settings.key
      ? await loadCertificateFiles(settings.cert, settings.key)
      : await loadOrCreateSelfSigned(settings.dataDir, settings.hostname);
  const engine = createEngine(settings.tlsEngine, settings.tlsCrypto);
  const keylogPath = settings.tlsKeylog;
  const gateway = await startGateway({
    store: settings.store,
    dataDir: settings.dataDir,
    host: settings.host,
    hostname: settings.hostname,
    domains: settings.domains,
    ports: settings.ports,
    tls: {
      engine,
      cert: certified.certificateChainPem,
      key: certified.privateKeyPem,
      keyLog: keylogPath ? (line) => appendFileSync(keylogPath, line + '\n', { mode: 0o600 }) : undefined,
      minVersion: settings.tlsMinVersion,
      maxVersion: settings.tlsMaxVersion,
    },
    relay:
      settings.relay === 'capture'
        ? 'capture'
        : {
            smarthost: settings.relayHost,
            auth: settings.relayAuth,
            tls: settings.relayTls,
            ca: settings.relayCa ? readPem(settings.relayCa) : undefined,
            serverName: settings.relayServername,
          },
    allowInsecureAuth: settings.allowInsecureAuth,
    limits: settings.limits,
    maxMessageSize: settings.maxMessageSize,
    logger,
    shutdownDeadlineMs: settings.shutdownDeadlineMs,
  });
  for (const line of gateway.describe()) process.stdout.write(line + '\n');
  // Scripts (and our tests) wait for this line: every listener is bound and accepting.
  process.stdout.write('postern ready\n');
  logger.info({ store: settings.store, engine: engine.name, hostname: settings.hostname }, 'postern started');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    gateway.close().then(
      () => {
        logger.info('stopped');
        process.exit(0);
      },
      (err: unknown) => {
        logger.error({ err: String(err) }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}
