/**
 * Settings of `postern serve`: defaults, a JSON Schema for config files (JSON or YAML, the same
 * keys as the flags in camelCase), and the merge order defaults < file < flags.
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse as parseYaml } from 'yaml';
import { ConfigError } from '@postern/core';

export const LISTENERS = [
  'smtp',
  'submission',
  'smtps',
  'imap',
  'imaps',
  'pop3',
  'pop3s',
  'nntp',
  'nntps',
] as const;
export type ListenerName = (typeof LISTENERS)[number];

/**
 * Connection limits applied to every listener (issue 19): caps per listener and per remote
 * address, the whole-command-line and pre-auth deadlines, and the idle timeout. Unset: each
 * protocol's default (see the packages' READMEs).
 */
export interface LimitSettings {
  maxConnections?: number;
  maxConnectionsPerIp?: number;
  commandTimeoutMs?: number;
  preAuthTimeoutMs?: number;
  idleTimeoutMs?: number;
}

/** A listener port: a number (0 picks a free port) or 'off'. */
export type PortSetting = number | 'off';

export const DEFAULT_PORTS: Record<ListenerName, number> = {
  smtp: 2525,
  submission: 2587,
  smtps: 2465,
  imap: 2143,
  imaps: 2993,
  pop3: 2110,
  pop3s: 2995,
  nntp: 2119,
  nntps: 2563,
};

export interface ServeSettings {
  dataDir: string;
  host: string;
  hostname: string;
  domains: string[];
  ports: Record<ListenerName, PortSetting>;
  cert?: string;
  key?: string;
  tlsEngine: 'ts' | 'native';
  /** Crypto provider of the ts engine: fastest per primitive (default), node:crypto, or pure-JS noble. */
  tlsCrypto: 'default' | 'node' | 'noble';
  tlsKeylog?: string;
  /** Oldest and newest TLS version offered (engine defaults: TLSv1.2 and TLSv1.3). */
  tlsMinVersion?: 'TLSv1.2' | 'TLSv1.3';
  tlsMaxVersion?: 'TLSv1.2' | 'TLSv1.3';
  store: string;
  relay: 'queue' | 'capture';
  /** Smarthost `host:port`; without it mail goes to the recipients' MX hosts. */
  relayHost?: string;
  /** `user:password` for the smarthost. */
  relayAuth?: string;
  /** Default: required for a smarthost, opportunistic for MX hosts. */
  relayTls?: 'required' | 'opportunistic' | 'off';
  /** Trust anchors (PEM file) for the relay's TLS; default Node's root store. */
  relayCa?: string;
  /** Name to verify the smarthost certificate against. */
  relayServername?: string;
  allowInsecureAuth: boolean;
  /** Largest message accepted by SMTP (SIZE) and IMAP APPEND, octets. */
  maxMessageSize: number;
  logLevel: 'debug' | 'info' | 'warn' | 'error' | 'silent';
  shutdownDeadlineMs: number;
  limits: LimitSettings;
}

export function defaultSettings(): ServeSettings {
  return {
    dataDir: './postern-data',
    host: '127.0.0.1',
    hostname: 'localhost',
    domains: [],
    ports: { ...DEFAULT_PORTS },
    tlsEngine: 'ts',
    tlsCrypto: 'default',
    store: 'fs',
    relay: 'queue',
    allowInsecureAuth: false,
    maxMessageSize: 50 * 1024 * 1024,
    logLevel: 'info',
    shutdownDeadlineMs: 10_000,
    limits: {},
  };
}

const portSchema = { anyOf: [{ type: 'integer', minimum: 0, maximum: 65535 }, { const: 'off' }] };

/** Config files use the flag names in camelCase: `smtpPort`, `dataDir`, `tlsEngine`, … */
const fileSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    dataDir: { type: 'string', minLength: 1 },
    host: { type: 'string', minLength: 1 },
    hostname: { type: 'string', minLength: 1 },
    domain: { type: 'array', items: { type: 'string', minLength: 1 } },
    domains: { type: 'array', items: { type: 'string', minLength: 1 } },
    ...Object.fromEntries(LISTENERS.map((l) => [`${l}Port`, portSchema])),
    cert: { type: 'string' },
    key: { type: 'string' },
    tlsEngine: { enum: ['ts', 'native'] },
    tlsCrypto: { enum: ['default', 'node', 'noble'] },
    tlsKeylog: { type: 'string' },
    tlsMinVersion: { enum: ['TLSv1.2', 'TLSv1.3'] },
    tlsMaxVersion: { enum: ['TLSv1.2', 'TLSv1.3'] },
    store: { type: 'string', pattern: '^(fs|memory|redis://.+)$' },
    relay: { enum: ['queue', 'capture'] },
    relayHost: { type: 'string', pattern: '^(\\[[^\\]]+\\]|[^:]+)(:\\d{1,5})?$' },
    relayAuth: { type: 'string', pattern: '^[^:]+:' },
    relayTls: { enum: ['required', 'opportunistic', 'off'] },
    relayCa: { type: 'string' },
    relayServername: { type: 'string', minLength: 1 },
    allowInsecureAuth: { type: 'boolean' },
    maxMessageSize: { type: 'integer', minimum: 1024 },
    logLevel: { enum: ['debug', 'info', 'warn', 'error', 'silent'] },
    shutdownDeadlineMs: { type: 'integer', minimum: 0 },
    maxConnections: { type: 'integer', minimum: 1 },
    maxConnectionsPerIp: { type: 'integer', minimum: 1 },
    // The flags' names (`--command-timeout` → commandTimeout) and GatewayOptions.limits' names.
    commandTimeout: { type: 'integer', minimum: 0 },
    commandTimeoutMs: { type: 'integer', minimum: 0 },
    preAuthTimeout: { type: 'integer', minimum: 0 },
    preAuthTimeoutMs: { type: 'integer', minimum: 0 },
    idleTimeout: { type: 'integer', minimum: 1 },
    idleTimeoutMs: { type: 'integer', minimum: 1 },
  },
} as const;

const ajv = new Ajv({ allErrors: true });
const validateFile = ajv.compile(fileSchema);

export type FileSettings = Partial<Record<string, unknown>>;

/** Read and validate a JSON or YAML config file; ConfigError with the first problem otherwise. */
export function loadConfigFile(path: string): FileSettings {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${path}: ${(err as NodeJS.ErrnoException).code ?? err}`);
  }
  let data: unknown;
  try {
    data = /\.json$/i.test(path) ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    throw new ConfigError(
      `config file ${path} is not valid ${/\.json$/i.test(path) ? 'JSON' : 'YAML'}: ${(err as Error).message.split('\n')[0]}`,
    );
  }
  if (!validateFile(data)) {
    const e = validateFile.errors![0];
    const where = e.instancePath ? e.instancePath.slice(1) : 'config';
    const extra =
      e.keyword === 'additionalProperties'
        ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'`
        : '';
    throw new ConfigError(`config file ${path}: ${where} ${e.message}${extra}`);
  }
  return data as FileSettings;
}

/** Parse a port flag: an integer 0–65535 or `off`. */
export function parsePort(flag: string, value: string): PortSetting {
  if (value === 'off') return 'off';
  if (!/^\d+$/.test(value) || Number(value) > 65535) {
    throw new ConfigError(`--${flag}: '${value}' is not a port (0-65535 or off)`);
  }
  return Number(value);
}

/** Flag or file key → LimitSettings key. */
const LIMIT_KEYS: Record<string, keyof LimitSettings> = {
  maxConnections: 'maxConnections',
  maxConnectionsPerIp: 'maxConnectionsPerIp',
  commandTimeout: 'commandTimeoutMs',
  commandTimeoutMs: 'commandTimeoutMs',
  preAuthTimeout: 'preAuthTimeoutMs',
  preAuthTimeoutMs: 'preAuthTimeoutMs',
  idleTimeout: 'idleTimeoutMs',
  idleTimeoutMs: 'idleTimeoutMs',
};

/** Parse a count flag (`--max-connections`): an integer of at least `min`. */
export function parseCount(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value) || Number(value) < min || !Number.isSafeInteger(Number(value))) {
    throw new ConfigError(`--${flag}: '${value}' is not a whole number of at least ${min}`);
  }
  return Number(value);
}

const OPTIONAL_KEYS = new Set([
  'cert',
  'key',
  'tlsKeylog',
  'tlsMinVersion',
  'tlsMaxVersion',
  'relayHost',
  'relayAuth',
  'relayTls',
  'relayCa',
  'relayServername',
]);

/** defaults < config file < flags (only flags the user actually gave). */
export function mergeSettings(file: FileSettings, flags: Partial<Record<string, unknown>>): ServeSettings {
  const s = defaultSettings();
  for (const source of [file, flags]) {
    for (const [k, v] of Object.entries(source)) {
      if (v === undefined) continue;
      const port = /^(\w+)Port$/.exec(k);
      if (port && (LISTENERS as readonly string[]).includes(port[1])) {
        s.ports[port[1] as ListenerName] = v as PortSetting;
      } else if (k === 'domain' || k === 'domains') {
        s.domains = [...(v as string[])];
      } else if (Object.hasOwn(LIMIT_KEYS, k)) {
        s.limits = { ...s.limits, [LIMIT_KEYS[k]!]: v as number };
      } else if (k in s || OPTIONAL_KEYS.has(k)) {
        (s as unknown as Record<string, unknown>)[k] = v;
      }
    }
  }
  if (s.tlsMinVersion === 'TLSv1.3' && s.tlsMaxVersion === 'TLSv1.2') {
    throw new ConfigError('--tls-min-version TLSv1.3 is above --tls-max-version TLSv1.2');
  }
  if ((s.cert === undefined) !== (s.key === undefined)) {
    throw new ConfigError('--cert and --key go together');
  }
  return s;
}
