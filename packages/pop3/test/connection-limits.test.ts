/**
 * Issue 19 item 5 over real sockets: per-IP and global caps on both POP3 listeners (refusal
 * `-ERR [SYS/TEMP]`, RFC 3206 §4; a plain close on pop3s), the slot given back however a
 * connection ends, the command-line deadline a trickling client cannot extend, and the pre-auth
 * deadline. 127.0.0.2 is "another address" (all of 127/8 is loopback on Linux).
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { ALICE, ALICE_PW, startHarness, type Harness } from './harness.js';
import { connectRawLines as raw, waitUntil as until, type RawLineClient as Raw } from '@postern/core';

const GREETING = /^\+OK /;
const REFUSAL = /^-ERR \[SYS\/TEMP\] /;

describe('POP3 connection limits', () => {
  let h: Harness | undefined;
  const open: net.Socket[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) s.destroy();
    await h?.close();
    h = undefined;
  });
  async function client(port: number, localAddress?: string): Promise<Raw> {
    const c = await raw(port, localAddress);
    open.push(c.socket);
    return c;
  }

  it('refuses the connection past maxConnectionsPerIp with -ERR [SYS/TEMP], serves another address, and gives the slot back after a reset', async () => {
    h = await startHarness({ maxConnectionsPerIp: 2 });
    const a = await client(h.port);
    const b = await client(h.port);
    assert.match(await a.line(), GREETING);
    assert.match(await b.line(), GREETING);
    const c = await client(h.port);
    const refused = await c.closed();
    assert.equal(refused.length, 1);
    assert.match(refused[0]!, REFUSAL);
    const other = await client(h.port, '127.0.0.2');
    assert.match(await other.line(), GREETING);
    a.socket.resetAndDestroy();
    await until('slot back', () => h!.server.connections === 2);
    const d = await client(h.port);
    assert.match(await d.line(), GREETING);
  });

  it('caps the total with maxConnections, whatever the address', async () => {
    h = await startHarness({ maxConnections: 2 });
    const a = await client(h.port);
    const b = await client(h.port, '127.0.0.2');
    await a.line();
    await b.line();
    const c = await client(h.port, '127.0.0.3');
    assert.match((await c.closed())[0]!, REFUSAL);
  });

  it('closes a refused pop3s connection without a word, and gives back the slot of one that died mid-handshake', async () => {
    h = await startHarness({ maxConnectionsPerIp: 1 });
    const half = await client(h.tlsPort);
    half.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    await until('session started', () => h!.server.connections === 1);
    const refused = await client(h.tlsPort);
    assert.deepEqual(await refused.closed(), [], 'nothing may be said before the handshake');
    half.socket.resetAndDestroy();
    await until('slot back', () => h!.server.connections === 0);
    const next = await client(h.tlsPort);
    next.socket.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01]));
    await until('served again', () => h!.server.connections === 1);
  });

  it('drops a client sending one byte every 100 ms without a newline at commandTimeoutMs, though it is never idle', async () => {
    h = await startHarness({ commandTimeoutMs: 600, idleTimeoutMs: 300 });
    const slow = await client(h.port);
    assert.match(await slow.line(), GREETING);
    const drip = setInterval(() => slow.socket.write('a'), 100);
    const other = await client(h.port, '127.0.0.2');
    assert.match(await other.line(), GREETING);
    other.socket.write('NOOP\r\n');
    assert.match(await other.line(), /^-ERR /, 'NOOP before login: answered, not ignored');
    const lines = await slow.closed();
    clearInterval(drip);
    // Its own words, not the idle autologout's.
    assert.equal(lines[lines.length - 1], '-ERR autologout: command not completed in time');
  });

  it('ends a session that has not logged in within preAuthTimeoutMs, busy or not; a login lifts the deadline', async () => {
    h = await startHarness({ preAuthTimeoutMs: 500, allowInsecureAuth: true });
    const busy = await client(h.port);
    await busy.line();
    const noop = setInterval(() => busy.socket.write('NOOP\r\n'), 50);
    const user = await client(h.port);
    await user.line();
    user.socket.write(`USER ${ALICE}\r\n`);
    assert.match(await user.line(), /^\+OK/);
    user.socket.write(`PASS ${ALICE_PW}\r\n`);
    assert.match(await user.line(), /^\+OK/);
    const lines = await busy.closed();
    clearInterval(noop);
    assert.equal(lines[lines.length - 1], '-ERR autologout: not logged in in time');
    await new Promise((r) => setTimeout(r, 300));
    user.socket.write('NOOP\r\n');
    assert.match(await user.line(), /^\+OK/);
  });

  it('defaults to 50 connections per address and 1000 per listener', async () => {
    h = await startHarness();
    assert.equal(h.server.options.maxConnectionsPerIp, 50);
    assert.equal(h.server.options.maxConnections, 1000);
    assert.equal(h.server.options.commandTimeoutMs, 60_000);
    assert.equal(h.server.options.preAuthTimeoutMs, 60_000);
  });
});
