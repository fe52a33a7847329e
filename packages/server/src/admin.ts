/**
 * `postern user …` and `postern group …`: act on the store's accounts and groups, so a fleet
 * sharing a Redis store shares them too.
 */
import { mkdirSync } from 'node:fs';
import { Command } from 'commander';
import { ConfigError } from '@postern/core';
import { openStore, type Store } from '@postern/store';

interface StoreFlags {
  dataDir?: string;
  store?: string;
}

function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'data directory (default ./postern-data)')
    .option('--store <spec>', 'fs | redis://host:port/db (default fs in the data dir)');
}

async function usingStore<T>(flags: StoreFlags, fn: (store: Store) => Promise<T>): Promise<T> {
  const dataDir = flags.dataDir ?? './postern-data';
  const spec = flags.store ?? 'fs';
  if (spec === 'fs') mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const store = await openStore(spec, { dataDir });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

async function readPassword(flags: { password?: string; passwordStdin?: boolean }): Promise<string> {
  if (flags.password !== undefined && flags.passwordStdin)
    throw new ConfigError('give --password or --password-stdin, not both');
  if (flags.password !== undefined) return flags.password;
  if (!flags.passwordStdin)
    throw new ConfigError('a password is required: --password PW or --password-stdin');
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  const pw = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (!pw) throw new ConfigError('--password-stdin: empty password');
  return pw;
}

const ADDRESS = /^[^\s@]+@[^\s@]+\.?[^\s@]*$/;

function checkAddress(address: string): string {
  if (!ADDRESS.test(address)) throw new ConfigError(`'${address}' is not an email address`);
  return address;
}

export function registerAdminCommands(program: Command): void {
  const user = program.command('user').description('manage mail users');
  withStoreOptions(user.command('add <address>').description('add a user'))
    .option('--password <pw>', 'the password')
    .option('--password-stdin', 'read the password from standard input')
    .action(async (address: string, flags: StoreFlags & { password?: string; passwordStdin?: boolean }) => {
      const pw = await readPassword(flags);
      await usingStore(flags, async (s) => {
        const domain = checkAddress(address).split('@')[1];
        if (!(await s.accounts.isLocalDomain(domain))) await s.accounts.addDomain(domain);
        await s.accounts.addUser(address, pw);
      });
      process.stdout.write(`added ${address}\n`);
    });
  withStoreOptions(user.command('del <address>').description('delete a user and their mail')).action(
    async (address: string, flags: StoreFlags) => {
      const ok = await usingStore(flags, (s) => s.accounts.deleteUser(address));
      if (!ok) throw new ConfigError(`no such user: ${address}`);
      process.stdout.write(`deleted ${address}\n`);
    },
  );
  withStoreOptions(user.command('list').description('list users')).action(async (flags: StoreFlags) => {
    const users = await usingStore(flags, (s) => s.accounts.listUsers());
    for (const u of users) process.stdout.write(u + '\n');
  });
  withStoreOptions(user.command('passwd <address>').description("change a user's password"))
    .option('--password <pw>', 'the new password')
    .option('--password-stdin', 'read the new password from standard input')
    .action(async (address: string, flags: StoreFlags & { password?: string; passwordStdin?: boolean }) => {
      const pw = await readPassword(flags);
      await usingStore(flags, async (s) => {
        if (!(await s.accounts.hasUser(address))) throw new ConfigError(`no such user: ${address}`);
        await s.accounts.setPassword(address, pw);
      });
      process.stdout.write(`password changed for ${address}\n`);
    });

  const group = program.command('group').description('manage newsgroups');
  withStoreOptions(group.command('add <name>').description('add a newsgroup'))
    .option('--description <text>', 'one-line description')
    .option('--mail-address <address>', 'gateway: mail to this address becomes an article in the group')
    .action(async (name: string, flags: StoreFlags & { description?: string; mailAddress?: string }) => {
      if (!/^[a-z0-9][a-z0-9+_-]*(\.[a-z0-9+_-]+)*$/i.test(name))
        throw new ConfigError(`'${name}' is not a newsgroup name`);
      if (flags.mailAddress) checkAddress(flags.mailAddress);
      await usingStore(flags, (s) =>
        s.news.createGroup(name, { description: flags.description, mailAddress: flags.mailAddress ?? null }),
      );
      process.stdout.write(`added ${name}\n`);
    });
  withStoreOptions(group.command('list').description('list newsgroups')).action(async (flags: StoreFlags) => {
    const groups = await usingStore(flags, (s) => s.news.listGroups());
    for (const g of groups)
      process.stdout.write(
        `${g.name}\t${g.count}\t${g.description}${g.mailAddress ? `\t<${g.mailAddress}>` : ''}\n`,
      );
  });
  withStoreOptions(
    group.command('subscribe <name> <address>').description("mail the group's articles to an address"),
  ).action(async (name: string, address: string, flags: StoreFlags) => {
    checkAddress(address);
    await usingStore(flags, async (s) => {
      if (!(await s.news.getGroup(name))) throw new ConfigError(`no such group: ${name}`);
      await s.news.addSubscriber(name, address);
    });
    process.stdout.write(`subscribed ${address} to ${name}\n`);
  });

  registerQueueCommands(program);
}

/** `postern queue list|flush|delete`: the relay's outbound queue. */
function registerQueueCommands(program: Command): void {
  const queue = program.command('queue').description('inspect and steer the outbound relay queue');
  withStoreOptions(
    queue
      .command('list')
      .description('list queued mail: id, state, attempts, next attempt, recipients, last error'),
  ).action(async (flags: StoreFlags) => {
    const items = await usingStore(flags, (s) => s.queue.list());
    for (const i of items) {
      const fields = [
        i.id,
        i.state,
        `attempts=${i.attempts}`,
        `next=${i.nextAttemptAt.toISOString()}`,
        `from=<${i.envelope.from}>`,
        `to=${i.pending.join(',')}`,
      ];
      if (i.lastError) fields.push(`error=${i.lastError.replace(/\s+/g, ' ')}`);
      process.stdout.write(fields.join('\t') + '\n');
    }
  });
  withStoreOptions(queue.command('flush').description('make every queued item due now')).action(
    async (flags: StoreFlags) => {
      const n = await usingStore(flags, (s) => s.queue.flush());
      process.stdout.write(`${n} item(s) due now\n`);
    },
  );
  withStoreOptions(queue.command('delete <id>').description('drop a queued item without bouncing it')).action(
    async (id: string, flags: StoreFlags) => {
      const ok = await usingStore(flags, (s) => s.queue.delete(id));
      if (!ok) throw new ConfigError(`no queued item ${id}`);
      process.stdout.write(`deleted ${id}\n`);
    },
  );
}
