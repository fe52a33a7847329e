/**
 * Issue 19 item 5 through the gateway and the CLI: `limits` (GatewayOptions) and the flags
 * `--max-connections`, `--max-connections-per-ip`, `--command-timeout`, `--pre-auth-timeout`
 * reach every listener; each refuses in its protocol's words (a plain close on implicit TLS)
 * while another address is served. Bad values: one line on stderr, exit 2.
 */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import type * as net from 'node:net';
import { join } from 'node:path';
import { startGateway, type Gateway } from '@postern/server';
import { runCli, startServe, tempDir } from './helpers.js';
import { connectRawLines as raw, type RawLineClient as Raw } from '@postern/core';

const GREETING: Record<string, RegExp> = {
  smtp: /^220 /,
  submission: /^220 /,
  imap: /^\* OK /,
  pop3: /^\+OK /,
  nntp: /^20[01] /,
};
const REFUSAL: Record<string, RegExp> = {
  smtp: /^421 4\.7\.0 /,
  submission: /^421 4\.7\.0 /,
  imap: /^\* BYE \[UNAVAILABLE\] /,
  pop3: /^-ERR \[SYS\/TEMP\] /,
  nntp: /^400 /,
};
const IMPLICIT = ['smtps', 'imaps', 'pop3s', 'nntps'] as const;

describe('connection limits through the gateway', function () {
  let gw: Gateway | undefined;
  const open: net.Socket[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.destroy();
    await gw?.close();
    gw = undefined;
  });
  async function client(port: number, localAddress?: string): Promise<Raw> {
    const c = await raw(port, localAddress);
    open.push(c.socket);
    return c;
  }

  it('limits.maxConnectionsPerIp caps every listener, each refusing in its own words', async () => {
    gw = await startGateway({ store: 'memory', relay: 'capture', limits: { maxConnectionsPerIp: 1 } });
    for (const [name, greeting] of Object.entries(GREETING)) {
      const port = gw.ports[name as keyof Gateway['ports']]!;
      const first = await client(port);
      assert.match(await first.line(), greeting, name);
      const refused = await client(port);
      const lines = await refused.closed();
      assert.equal(lines.length, 1, name);
      assert.match(lines[0]!, REFUSAL[name]!, name);
      const other = await client(port, '127.0.0.2');
      assert.match(await other.line(), greeting, `${name}: another address is served`);
    }
    for (const name of IMPLICIT) {
      const port = gw.ports[name]!;
      const first = await client(port);
      first.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
      await new Promise((r) => setTimeout(r, 50));
      const refused = await client(port);
      assert.deepEqual(await refused.closed(), [], `${name}: a plain close before the handshake`);
    }
  });

  it('limits.maxConnections caps the total on a listener', async () => {
    gw = await startGateway({ store: 'memory', relay: 'capture', limits: { maxConnections: 1 } });
    const a = await client(gw.ports.imap!);
    await a.line();
    const b = await client(gw.ports.imap!, '127.0.0.2');
    assert.match((await b.closed())[0]!, REFUSAL.imap!);
    const pop = await client(gw.ports.pop3!, '127.0.0.2');
    assert.match(await pop.line(), GREETING.pop3!, 'each listener counts on its own');
  });

  it('limits.commandTimeoutMs drops a client trickling one byte every 100 ms, on every listener', async () => {
    gw = await startGateway({
      store: 'memory',
      relay: 'capture',
      limits: { commandTimeoutMs: 500, idleTimeoutMs: 300 },
    });
    await Promise.all(
      Object.keys(GREETING).map(async (name) => {
        const slow = await client(gw!.ports[name as keyof Gateway['ports']]!);
        await slow.line();
        const drip = setInterval(() => slow.socket.write('a'), 100);
        const lines = await slow.closed();
        clearInterval(drip);
        assert.ok(lines.length >= 2, `${name}: a goodbye after the greeting (${JSON.stringify(lines)})`);
      }),
    );
  });
});

describe('connection-limit flags of postern serve', function () {
  this.timeout(60_000);
  const offAll = ['smtp', 'submission', 'smtps', 'imaps', 'pop3', 'pop3s', 'nntp', 'nntps'].flatMap((l) => [
    `--${l}-port`,
    'off',
  ]);

  for (const [flag, bad] of [
    ['--max-connections', '0'],
    ['--max-connections', 'many'],
    ['--max-connections-per-ip', '-1'],
    ['--command-timeout', '1.5'],
    ['--pre-auth-timeout', 'soon'],
  ] as const) {
    it(`refuses ${flag} ${bad}: one line on stderr, exit 2`, async () => {
      const r = await runCli(['serve', '--store', 'memory', flag, bad, '--imap-port', '0', ...offAll]);
      assert.equal(r.code, 2, r.stderr);
      const lines = r.stderr.trimEnd().split('\n');
      assert.equal(lines.length, 1, r.stderr);
      assert.match(lines[0]!, new RegExp(`${flag}.*${bad}`));
      assert.doesNotMatch(r.stdout, /^listening /m);
    });
  }

  it('applies --max-connections-per-ip, and the same key from a config file', async () => {
    const config = join(tempDir(), 'postern.json');
    writeFileSync(config, JSON.stringify({ maxConnectionsPerIp: 1, preAuthTimeoutMs: 30_000 }));
    for (const args of [
      ['--max-connections-per-ip', '1', '--command-timeout', '30000', '--pre-auth-timeout', '30000'],
      ['--config', config],
    ]) {
      const serve = await startServe(['--store', 'memory', '--imap-port', '0', ...offAll, ...args]);
      try {
        const a = await raw(serve.ports.imap!);
        assert.match(await a.line(), GREETING.imap!);
        const b = await raw(serve.ports.imap!);
        assert.match((await b.closed())[0]!, REFUSAL.imap!);
        a.socket.destroy();
      } finally {
        assert.equal(await serve.stop(), 0);
      }
    }
  });
});
