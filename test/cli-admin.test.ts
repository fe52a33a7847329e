import assert from 'node:assert/strict';
import { runCli, tempDir } from './helpers.js';

describe('postern user and group commands act on the store', function () {
  // Each case starts several CLI processes (~1 s each on an idle machine, 3-4 s on a loaded one).
  this.timeout(60_000);
  const dataDir = tempDir();
  const store = ['--data-dir', dataDir];

  it('user add, list, passwd and del', async () => {
    let r = await runCli(['user', 'add', 'alice@example.test', '--password', 'pw-1', ...store]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['user', 'add', 'bob@example.test', '--password-stdin', ...store], {
      stdin: 'secret from stdin\n',
    });
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['user', 'list', ...store]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['alice@example.test', 'bob@example.test']);
    r = await runCli(['user', 'passwd', 'alice@example.test', '--password', 'pw-2', ...store]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['user', 'del', 'bob@example.test', ...store]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['user', 'list', ...store]);
    assert.deepEqual(r.stdout.trim().split('\n'), ['alice@example.test']);
  });

  it('refuses to add a user twice, and to delete or re-password an unknown one (exit 2)', async () => {
    await runCli(['user', 'add', 'carol@example.test', '--password', 'x', ...store]);
    let r = await runCli(['user', 'add', 'carol@example.test', '--password', 'x', ...store]);
    assert.equal(r.code, 2);
    r = await runCli(['user', 'del', 'nobody@example.test', ...store]);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no such user/);
    r = await runCli(['user', 'passwd', 'nobody@example.test', '--password', 'y', ...store]);
    assert.equal(r.code, 2);
  });

  it('group add, list and subscribe', async () => {
    let r = await runCli([
      'group',
      'add',
      'local.test',
      '--description',
      'Testing',
      '--mail-address',
      'test-list@example.test',
      ...store,
    ]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['group', 'subscribe', 'local.test', 'alice@example.test', ...store]);
    assert.equal(r.code, 0, r.stderr);
    r = await runCli(['group', 'list', ...store]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^local\.test\t0\tTesting\t<test-list@example\.test>$/m);
    r = await runCli(['group', 'subscribe', 'no.such.group', 'alice@example.test', ...store]);
    assert.equal(r.code, 2);
    r = await runCli(['group', 'add', '../evil', ...store]);
    assert.equal(r.code, 2);
  });
});
