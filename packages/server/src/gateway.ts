/**
 * startGateway: Postern as a library, for `postern serve` and for other people's test suites
 * (the way GreenMail or Mailpit are used). Memory store, free ports and an in-memory
 * certificate by default; `close()` releases every handle.
 */
import { CertificateStore, ConfigError, generateSelfSigned, silentLogger } from '@postern/core';
import type { AuthThrottle, CertifiedKey, Logger, TlsEngine, TlsVersion } from '@postern/core';
import { createMemoryStore, openStore, type Store } from '@postern/store';
import { LISTENERS, type LimitSettings, type ListenerName, type PortSetting } from './config.js';
import { ListenerSet } from './listeners.js';
import { buildListenerSpecs, type CapturedMail, type SmtpFaults } from './protocols.js';
import { MailLog, type MailFilter, type ParsedMail } from './mail-log.js';
import { createEngine } from './tls-setup.js';
import { createRelayWorker, type RelaySettings } from './relay-setup.js';
import type { RelayWorker } from '@postern/smtp';

export interface GatewayOptions {
  /** 'memory' (default), 'fs' (in `dataDir`), 'redis://…', or a Store you opened. */
  store?: string | Store;
  dataDir?: string;
  host?: string;
  hostname?: string;
  domains?: string[];
  users?: Array<{ address: string; password: string }>;
  groups?: Array<string | { name: string; description?: string; mailAddress?: string }>;
  /** Per listener: a port, 0 for a free one (the default), or 'off'. */
  ports?: Partial<Record<ListenerName, PortSetting>>;
  tls?: {
    engine?: 'ts' | 'native' | TlsEngine;
    cert?: string;
    key?: string;
    keyLog?: (line: string) => void;
    /** Oldest and newest TLS version (default TLSv1.2 and TLSv1.3). */
    minVersion?: TlsVersion;
    maxVersion?: TlsVersion;
  };
  /**
   * 'capture': mail for non-local domains is kept (see `captured()`) instead of relayed.
   * 'queue' (default) or relay settings: queued and delivered by the relay worker.
   */
  relay?: 'queue' | 'capture' | RelaySettings;
  allowInsecureAuth?: boolean;
  /** Largest message over SMTP and IMAP APPEND, octets (default 50 MiB). */
  maxMessageSize?: number;
  /** Fault injection per SMTP listener, for testing clients' error paths. */
  faults?: Partial<Record<'smtp' | 'submission' | 'smtps', SmtpFaults>>;
  logger?: Logger;
  shutdownDeadlineMs?: number;
  /**
   * Applied to every listener: `maxConnections` (per listener, default 1000),
   * `maxConnectionsPerIp` (default SMTP 20, IMAP/POP3/NNTP 50), `commandTimeoutMs` (a whole
   * command line, from its first byte; default 60 s), `preAuthTimeoutMs` (connect to login for
   * IMAP, POP3 and submission; default 60 s), `idleTimeoutMs` (default per protocol).
   */
  limits?: LimitSettings;
  /** The login throttle all listeners share (default: one with the standard budget). */
  authThrottle?: AuthThrottle;
}

export interface Gateway {
  readonly ports: Partial<Record<ListenerName, number>>;
  readonly certificatePem: string;
  readonly store: Store;
  /** The outbound relay worker (absent in capture mode); `runOnce()` delivers what is due now. */
  readonly relay: RelayWorker | undefined;
  /** `listening <proto> <host>:<port> (…)` lines. */
  describe(): string[];
  /** Messages delivered to local users' INBOXes, parsed. */
  messages(filter?: MailFilter): Promise<ParsedMail[]>;
  /** Mail for non-local domains kept in capture mode, parsed. */
  captured(filter?: MailFilter): Promise<ParsedMail[]>;
  /** The first message (delivered or captured) matching `filter`, waiting up to `timeoutMs` (default 5 s). */
  waitForMessage(filter?: MailFilter, options?: { timeoutMs?: number }): Promise<ParsedMail>;
  /** Forget captured mail and empty every local mailbox. */
  reset(): Promise<void>;
  close(): Promise<void>;
}

async function openGatewayStore(
  option: GatewayOptions['store'],
  dataDir: string | undefined,
  domains: string[],
) {
  if (option !== undefined && typeof option !== 'string') return { store: option, owned: false };
  const spec = option ?? 'memory';
  if (spec === 'memory') return { store: createMemoryStore({ domains }), owned: true };
  if (!dataDir) throw new ConfigError(`store '${spec}' needs a dataDir`);
  // The domains given at start-up stay local for the gateway's life, even if the store
  // (Redis) loses them: mail for them is never refused as a relay attempt (issue 19, item 8).
  return { store: await openStore(spec, { dataDir, domains }), owned: true };
}

export async function startGateway(options: GatewayOptions = {}): Promise<Gateway> {
  const hostname = options.hostname ?? 'localhost';
  const domains = options.domains ?? [];
  const logger = options.logger ?? silentLogger;
  let certified: CertifiedKey;
  if (options.tls?.cert || options.tls?.key) {
    if (!options.tls.cert || !options.tls.key) throw new ConfigError('tls.cert and tls.key go together');
    certified = { certificateChainPem: options.tls.cert, privateKeyPem: options.tls.key };
  } else {
    certified = await generateSelfSigned({ hostname, altNames: ['127.0.0.1'] });
  }
  const certificates = new CertificateStore([certified]);
  const engineOption = options.tls?.engine ?? 'ts';
  const engine = typeof engineOption === 'string' ? createEngine(engineOption) : engineOption;

  const { store, owned } = await openGatewayStore(options.store, options.dataDir, domains);
  try {
    for (const d of domains) await store.accounts.addDomain(d);
    for (const u of options.users ?? []) {
      if (!(await store.accounts.hasUser(u.address))) await store.accounts.addUser(u.address, u.password);
    }
    for (const g of options.groups ?? []) {
      const group = typeof g === 'string' ? { name: g } : g;
      if (!(await store.news.getGroup(group.name))) {
        await store.news.createGroup(group.name, {
          description: group.description,
          mailAddress: group.mailAddress,
        });
      }
    }
  } catch (err) {
    if (owned) await store.close();
    throw err;
  }

  const mailLog = new MailLog(store);
  const ports = Object.fromEntries(LISTENERS.map((l) => [l, options.ports?.[l] ?? 0])) as Record<
    ListenerName,
    PortSetting
  >;
  const specs = buildListenerSpecs(
    {
      common: {
        hostname,
        tls: {
          engine,
          server: {
            certificates,
            keyLog: options.tls?.keyLog,
            minVersion: options.tls?.minVersion,
            maxVersion: options.tls?.maxVersion,
          },
        },
        allowInsecureAuth: options.allowInsecureAuth ?? false,
        logger,
        ...options.limits,
      },
      store,
      ports,
      relay: options.relay === 'capture' ? 'capture' : 'queue',
      capture: (mail: CapturedMail) => mailLog.capture(mail),
      faults: options.faults,
      maxMessageSize: options.maxMessageSize,
      authThrottle: options.authThrottle,
    },
    logger,
  );
  let listeners: ListenerSet;
  try {
    listeners = await ListenerSet.open(specs, options.host ?? '127.0.0.1', logger);
  } catch (err) {
    if (owned) await store.close();
    throw err;
  }
  let relay: RelayWorker | undefined;
  if (options.relay !== 'capture') {
    const settings = typeof options.relay === 'object' ? options.relay : {};
    try {
      relay = createRelayWorker(store, hostname, engine, settings, logger);
    } catch (err) {
      await listeners.shutdown(0);
      if (owned) await store.close();
      throw err;
    }
    relay.start();
  }
  let closed: Promise<void> | undefined;
  return {
    relay,
    ports: listeners.ports,
    certificatePem: certified.certificateChainPem,
    store,
    describe: () => listeners.describe(),
    messages: (filter) => mailLog.delivered(filter),
    captured: async (filter) => mailLog.captured(filter),
    waitForMessage: (filter, opts) => mailLog.waitFor(filter, opts?.timeoutMs ?? 5000),
    reset: () => mailLog.reset(),
    close: () =>
      (closed ??= (async () => {
        await listeners.shutdown(options.shutdownDeadlineMs ?? 2000);
        await relay?.stop();
        mailLog.close();
        if (owned) await store.close();
      })()),
  };
}
