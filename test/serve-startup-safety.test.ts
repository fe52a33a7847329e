/**
 * What `postern serve` leaves behind at start-up, through the CLI: no secret in the log (a
 * Redis URL's password is written as `***`), a data directory that only its owner can read
 * even under `umask 000`, and a warn-level line for each setting that weakens security
 * (`--tls-keylog`, `--allow-insecure-auth`).
 */
import assert from 'node:assert/strict';
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { requireProgram } from '@postern/core';
import { startRedisServer } from '@postern/store/testing';
import { runCli, startServe, tempDir, type ServeProcess } from './helpers.js';

const QUIET_PORTS = ['smtps', 'submission', 'imaps', 'pop3', 'pop3s', 'nntp', 'nntps'].flatMap((l) => [
  `--${l}-port`,
  'off',
]);

/** The JSON log record whose `msg` is `msg` (the lines keep coming after `postern ready`). */
async function logRecords(srv: ServeProcess, count: (r: Record<string, unknown>[]) => boolean) {
  for (let i = 0; i < 100; i++) {
    const records = srv.lines
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    if (count(records)) return records;
    await sleep(50);
  }
  throw new Error(`log lines not seen: ${srv.lines.join('\n')}`);
}

/** Every directory and file under `root` (root included), with its permission bits. */
function modes(root: string): Array<{ path: string; dir: boolean; mode: number }> {
  const out = [{ path: root, dir: true, mode: statSync(root).mode & 0o777 }];
  for (const e of readdirSync(root, { withFileTypes: true, recursive: true })) {
    const path = join(e.parentPath, e.name);
    out.push({ path, dir: e.isDirectory(), mode: statSync(path).mode & 0o777 });
  }
  return out;
}

describe('postern serve at start-up', function () {
  this.timeout(30_000);

  it('logs a redis store URL with its password as *** in the "postern started" line', async function () {
    requireProgram(this, 'redis-server');
    const redis = await startRedisServer();
    // The default user has no password here, so Redis accepts `AUTH default <anything>`.
    const url = `redis://default:Sup3r-Secret-pw@127.0.0.1:${redis.port}/0`;
    let srv: ServeProcess | undefined;
    try {
      srv = await startServe([
        '--store',
        url,
        '--log-level',
        'info',
        '--smtp-port',
        '0',
        '--imap-port',
        'off',
        ...QUIET_PORTS,
      ]);
      const records = await logRecords(srv, (rs) => rs.some((r) => r.msg === 'postern started'));
      const started = records.find((r) => r.msg === 'postern started')!;
      assert.equal(started.store, `redis://default:***@127.0.0.1:${redis.port}/0`);
      assert.ok(!srv.lines.some((l) => l.includes('Sup3r-Secret-pw')), 'the password is in the log');
    } finally {
      await srv?.stop();
      await redis.stop();
    }
  });

  it('creates the data dir, the store and the certificate dir 0700 and the key 0600 under umask 000', async () => {
    const dataDir = join(tempDir(), 'data');
    // Children inherit the umask: set it for the two spawns only.
    const old = process.umask(0);
    let srv: ServeProcess | undefined;
    try {
      const added = await runCli([
        'user',
        'add',
        'ann@example.test',
        '--password',
        'pw-ann',
        '--data-dir',
        dataDir,
      ]);
      assert.equal(added.code, 0, added.stderr);
      srv = await startServe([
        '--data-dir',
        dataDir,
        '--log-level',
        'silent',
        '--smtp-port',
        '0',
        '--imap-port',
        '0',
        ...QUIET_PORTS,
      ]);
    } finally {
      process.umask(old);
      await srv?.stop();
    }
    const all = modes(dataDir);
    const dirs = all.filter((e) => e.dir);
    // The data dir, store/, users/<ann>/boxes/<id>/msgs, tls/: at least those.
    assert.ok(dirs.length >= 6, dirs.map((d) => d.path).join(', '));
    for (const d of dirs) assert.equal(d.mode.toString(8), '700', d.path);
    for (const f of all.filter((e) => !e.dir))
      assert.equal(f.mode & 0o022, 0, `${f.path} is writable by others`);
    const key = all.find((e) => e.path.endsWith('.key.pem'));
    assert.ok(key, 'no key file');
    assert.equal(key.mode.toString(8), '600');
  });

  it('warns at start when --tls-keylog or --allow-insecure-auth is given', async () => {
    const dir = tempDir();
    const plain = await startServe(
      ['--store', 'memory', '--log-level', 'info', '--smtp-port', '0', '--imap-port', 'off', ...QUIET_PORTS],
      dir,
    );
    let records;
    try {
      records = await logRecords(plain, (rs) => rs.some((r) => r.msg === 'postern started'));
    } finally {
      await plain.stop();
    }
    assert.deepEqual(
      records.filter((r) => r.level === 40),
      [],
      'no warning without the options',
    );

    const srv = await startServe(
      [
        '--store',
        'memory',
        '--log-level',
        'warn',
        '--tls-keylog',
        join(dir, 'keys.log'),
        '--allow-insecure-auth',
        '--smtp-port',
        '0',
        '--imap-port',
        'off',
        ...QUIET_PORTS,
      ],
      dir,
    );
    try {
      records = await logRecords(srv, (rs) => rs.filter((r) => r.level === 40).length >= 2);
    } finally {
      await srv.stop();
    }
    const warnings = records.filter((r) => r.level === 40).map((r) => String(r.msg));
    assert.ok(
      warnings.some((m) => /key log/i.test(m)),
      warnings.join(' | '),
    );
    assert.ok(
      warnings.some((m) => /insecure-auth/.test(m)),
      warnings.join(' | '),
    );
  });
});
