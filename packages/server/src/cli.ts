#!/usr/bin/env node
/**
 * `postern`: serve, and manage users and groups in the store. Bad input of any kind (unknown
 * flag, bad port, unreadable or mismatched cert/key, port in use) prints one line on stderr
 * and exits 2, with nothing left running.
 */
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { PosternError } from '@postern/core';
import { LISTENERS, parseCount, parsePort } from './config.js';
import { runServe } from './serve.js';
import { registerAdminCommands } from './admin.js';

export const EXIT_BAD_INPUT = 2;

function portOption(name: string): Option {
  const flag = `${name}-port`;
  return new Option(
    `--${flag} <port>`,
    `${name} listener port (0 = any free port, off = disabled)`,
  ).argParser((v) => {
    try {
      return parsePort(flag, v);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message.replace(/^--[\w-]+: /, ''));
    }
  });
}

/** A whole-number flag of at least `min` (a count, or milliseconds where 0 disables). */
function countOption(flags: string, description: string, min: number): Option {
  const flag = flags.slice(2, flags.indexOf(' '));
  return new Option(flags, description).argParser((v) => {
    try {
      return parseCount(flag, v, min);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message.replace(/^--[\w-]+: /, ''));
    }
  });
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

export function buildProgram(): Command {
  const program = new Command('postern')
    .description('STARTTLS-capable mail and news gateway: SMTP, IMAP, POP3, NNTP')
    .version('0.1.0')
    .exitOverride()
    .showSuggestionAfterError(false)
    .configureOutput({ outputError: (str, write) => write(str.split('\n')[0] + '\n') });

  const serve = program
    .command('serve')
    .description('run the gateway')
    .option('--config <file>', 'JSON or YAML settings file (flags override it)')
    .option('--data-dir <dir>', 'data directory (default ./postern-data)')
    .option('--host <addr>', 'address to listen on (default 127.0.0.1)')
    .option('--hostname <name>', 'greeting and certificate name (default localhost)')
    .option('--domain <domain>', 'local mail domain (repeatable)', collect)
    .option('--cert <file>', 'certificate chain, PEM')
    .option('--key <file>', 'private key, PEM')
    .addOption(
      new Option('--tls-engine <engine>', 'TLS engine: ts (ours, default) or native (node:tls)').choices([
        'ts',
        'native',
      ]),
    )
    .addOption(
      new Option(
        '--tls-crypto <provider>',
        'crypto of the ts engine: default, node or noble (pure JS)',
      ).choices(['default', 'node', 'noble']),
    )
    .option('--tls-keylog <file>', 'append NSS key-log lines (SSLKEYLOGFILE format) here')
    .addOption(
      new Option('--tls-min-version <version>', 'oldest TLS version accepted (default TLSv1.2)').choices([
        'TLSv1.2',
        'TLSv1.3',
      ]),
    )
    .addOption(
      new Option('--tls-max-version <version>', 'newest TLS version offered (default TLSv1.3)').choices([
        'TLSv1.2',
        'TLSv1.3',
      ]),
    )
    .option('--store <spec>', 'fs | memory | redis://host:port/db (default fs in the data dir)')
    .addOption(
      new Option('--relay <mode>', 'outbound mail: queue (relay) or capture (keep, for test rigs)').choices([
        'queue',
        'capture',
      ]),
    )
    .option('--relay-host <host:port>', 'deliver outbound mail through this smarthost')
    .option('--relay-auth <user:password>', 'AUTH PLAIN credentials for the smarthost')
    .addOption(
      new Option(
        '--relay-tls <policy>',
        'relay TLS (default: required via smarthost, opportunistic to MX)',
      ).choices(['required', 'opportunistic', 'off']),
    )
    .option('--relay-ca <file>', 'trust anchors for the relay, PEM (default: Node root store)')
    .option('--relay-servername <name>', 'name to verify the smarthost certificate against')
    .addOption(
      new Option(
        '--max-message-size <bytes>',
        'largest message accepted over SMTP and IMAP APPEND (default 52428800)',
      ).argParser((v) => {
        if (!/^\d+$/.test(v) || Number(v) < 1024)
          throw new InvalidArgumentError(`'${v}' is not a size in bytes (at least 1024)`);
        return Number(v);
      }),
    )
    .addOption(countOption('--max-connections <n>', 'connections at once per listener (default 1000)', 1))
    .addOption(
      countOption(
        '--max-connections-per-ip <n>',
        'connections at once from one address, per listener (default 20 SMTP, 50 IMAP/POP3/NNTP)',
        1,
      ),
    )
    .addOption(
      countOption(
        '--command-timeout <ms>',
        'a command line must arrive whole within this long of its first byte (default 60000, 0 = off)',
        0,
      ),
    )
    .addOption(
      countOption(
        '--pre-auth-timeout <ms>',
        'connect to login, IMAP/POP3/submission (default 60000, 0 = off)',
        0,
      ),
    )
    .addOption(
      countOption('--idle-timeout <ms>', 'close a connection silent this long (default per protocol)', 1),
    )
    .option('--allow-insecure-auth', 'allow authentication before TLS (test rigs only)')
    .addOption(
      new Option('--log-level <level>', 'log level').choices(['debug', 'info', 'warn', 'error', 'silent']),
    );
  for (const l of LISTENERS) serve.addOption(portOption(l));
  serve.action(async (opts: Record<string, unknown>) => {
    await runServe(opts);
  });

  registerAdminCommands(program);
  return program;
}

async function main(argv: string[]): Promise<void> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version exit 0; every usage error is bad input.
      process.exit(err.exitCode === 0 ? 0 : EXIT_BAD_INPUT);
    }
    if (
      err instanceof PosternError ||
      (err as { code?: string }).code === 'EXISTS' ||
      (err as Error).name === 'StoreError'
    ) {
      process.stderr.write(`postern: ${(err as Error).message}\n`);
      process.exit(EXIT_BAD_INPUT);
    }
    process.stderr.write(`postern: ${(err as Error).stack ?? err}\n`);
    process.exit(1);
  }
}

await main(process.argv);
