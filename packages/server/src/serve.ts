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
    // Mail, keys and password hashes live here: owner only, whatever the umask.
    mkdirSync(settings.dataDir, { recursive: true, mode: 0o700 });
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
  // The store spec may be a URL with a password: the logger writes it as `user:***@`.
  logger.info({ store: settings.store, engine: engine.name, hostname: settings.hostname }, 'postern started');
  // Settings that weaken security are said out loud at every start, not only documented.
  if (keylogPath)
    logger.warn(
      { keylog: keylogPath },
      'TLS session keys are being written to the key log: whoever reads it can decrypt every connection (debugging only)',
    );
  if (settings.allowInsecureAuth)
    logger.warn(
      'authentication is allowed before TLS (--allow-insecure-auth): passwords may cross the network in clear (test rigs only)',
    );

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
