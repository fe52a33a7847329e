/**
 * Issue 19 item 5 over real sockets: per-IP and global caps on NNTP listeners (refusal `400`,
 * RFC 3977 §5.1.1; a plain close on nntps), the slot given back however a connection ends, and
 * the command-line deadline a trickling client cannot extend. NNTP has no pre-auth deadline:
 * reading may be anonymous, so the command deadline and the idle timeout bound a connection.
 * 127.0.0.2 is "another address" (all of 127/8 is loopback on Linux).
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { startRig, type Rig } from './harness.js';
import { connectRawLines as raw, waitUntil as until, type RawLineClient as Raw } from '@postern/core';

const GREETING = /^20[01] /;
const REFUSAL = /^400 /;

describe('NNTP connection limits', () => {
  let rig: Rig | undefined;
  const open: net.Socket[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.destroy();
    await rig?.close();
    rig = undefined;
  });
  async function client(port: number, localAddress?: string): Promise<Raw> {
    const c = await raw(port, localAddress);
    open.push(c.socket);
    return c;
  }

  it('refuses the connection past maxConnectionsPerIp with 400, serves another address, and gives the slot back after a reset', async () => {
    rig = await startRig({ maxConnectionsPerIp: 2 });
    const a = await client(rig.port);
    const b = await client(rig.port);
    assert.match(await a.line(), GREETING);
    assert.match(await b.line(), GREETING);
    const c = await client(rig.port);
    const refused = await c.closed();
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, REFUSAL);
    const other = await client(rig.port, '127.0.0.2');
    assert.match(await other.line(), GREETING);
    a.socket.resetAndDestroy();
    await until('slot back', () => rig!.server.connections === 2);
    const d = await client(rig.port);
    assert.match(await d.line(), GREETING);
  });

  it('caps the total with maxConnections, whatever the address', async () => {
    rig = await startRig({ maxConnections: 2 });
    const a = await client(rig.port);
    const b = await client(rig.port, '127.0.0.2');
    await a.line();
    await b.line();
    const c = await client(rig.port, '127.0.0.3');
    assert.match((await c.closed())[0]!, REFUSAL);
  });

  it('closes a refused nntps connection without a word, and gives back the slot of one that died mid-handshake', async () => {
    rig = await startRig({ implicitTls: true, maxConnectionsPerIp: 1 });
    const half = await client(rig.port);
    half.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    await until('session started', () => rig!.server.connections === 1);
    const refused = await client(rig.port);
    assert.deepEqual(await refused.closed(), [], 'nothing may be said before the handshake');
    half.socket.resetAndDestroy();
    await until('slot back', () => rig!.server.connections === 0);
    const next = await client(rig.port);
    next.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    await until('served again', () => rig!.server.connections === 1);
  });

  it('drops a client sending one byte every 100 ms without a newline at commandTimeoutMs, though it is never idle', async () => {
    rig = await startRig({ commandTimeoutMs: 600, idleTimeoutMs: 300 });
    const slow = await client(rig.port);
    assert.match(await slow.line(), GREETING);
    const drip = setInterval(() => slow.socket.write('a'), 100);
    const other = await client(rig.port, '127.0.0.2');
    assert.match(await other.line(), GREETING);
    other.socket.write('DATE\r\n');
    assert.match(await other.line(), /^111 /);
    const lines = await slow.closed();
    clearInterval(drip);
    // Its own words, not the idle timeout's.
    assert.equal(lines[lines.length - 1], '400 Command not completed in time, closing connection');
  });

  it('keeps an anonymous reader past preAuthTimeoutMs: NNTP has no login to wait for', async () => {
    rig = await startRig({ preAuthTimeoutMs: 200 });
    assert.equal(rig.server.options.preAuthTimeoutMs, 0);
    assert.equal(rig.server.options.maxConnectionsPerIp, 50);
    const reader = await client(rig.port);
    await reader.line();
    await new Promise((r) => setTimeout(r, 400));
    reader.socket.write('DATE\r\n');
    assert.match(await reader.line(), /^111 /);
  });
});
