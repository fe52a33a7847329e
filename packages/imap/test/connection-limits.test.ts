/**
 * Issue 19 item 5 over real sockets: per-IP and global caps on both IMAP listeners (refusal
 * `* BYE [UNAVAILABLE]`, RFC 9051 §7.1; a plain close on imaps), the slot given back however a
 * connection ends (reset, death mid-handshake), the command-line deadline a trickling client
 * cannot extend, the pre-auth deadline, and 2,000 connections from one address. 127.0.0.2 is
 * "another address" (all of 127/8 is loopback on Linux).
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { ALICE, ALICE_PW, startHarness, type Harness } from './harness.js';
import { connectRawLines as raw, waitUntil as until, type RawLineClient as Raw } from '@postern/core';

const GREETING = /^\* OK \[CAPABILITY /;
const REFUSAL = /^\* BYE \[UNAVAILABLE\] /;

describe('IMAP connection limits', () => {
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

  it('refuses the connection past maxConnectionsPerIp with * BYE [UNAVAILABLE], serves another address, and gives the slot back after a reset', async () => {
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

  it('closes a refused imaps connection without a word, and gives back the slot of one that died mid-handshake', async () => {
    h = await startHarness({ maxConnectionsPerIp: 1 });
    const half = await client(h.tlsPort);
    // A TLS record header promising a ClientHello that never comes, then a reset.
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
    other.socket.write('a1 NOOP\r\n');
    assert.match(await other.line(), /^a1 OK/);
    const lines = await slow.closed();
    clearInterval(drip);
    // Its own words, not the idle autologout's.
    assert.equal(lines[lines.length - 1], '* BYE command not completed in time');
  });

  it('drops an APPEND literal trickling in one byte every 50 ms once a commandTimeoutMs passes with less than 1 KiB', async () => {
    h = await startHarness({ commandTimeoutMs: 600, idleTimeoutMs: 300, allowInsecureAuth: true });
    const slow = await client(h.port);
    await slow.line();
    slow.socket.write(`l LOGIN ${ALICE} "${ALICE_PW}"\r\n`);
    for (let l = await slow.line(); !l.startsWith('l '); l = await slow.line());
    slow.socket.write('a APPEND INBOX {5000}\r\n');
    assert.match(await slow.line(), /^\+ /);
    const drip = setInterval(() => slow.socket.write('a'), 50);
    const lines = await slow.closed();
    clearInterval(drip);
    assert.equal(lines[lines.length - 1], '* BYE command not completed in time');
    await until('session gone', () => h!.server.connections === 0);
  });

  it('ends a session that has not logged in within preAuthTimeoutMs, busy or not; a login lifts the deadline', async () => {
    h = await startHarness({ preAuthTimeoutMs: 500, allowInsecureAuth: true });
    const busy = await client(h.port);
    await busy.line();
    let n = 0;
    const noop = setInterval(() => busy.socket.write(`n${n++} NOOP\r\n`), 50);
    const user = await client(h.port);
    await user.line();
    user.socket.write(`l LOGIN ${ALICE} "${ALICE_PW}"\r\n`);
    assert.match(await user.line(), /^l OK/);
    const lines = await busy.closed();
    clearInterval(noop);
    assert.equal(lines[lines.length - 1], '* BYE not authenticated in time');
    await new Promise((r) => setTimeout(r, 300));
    user.socket.write('s NOOP\r\n');
    assert.match(await user.line(), /^s OK/);
  });

  it('holds the per-IP cap against 2,000 connections from one address, serves another, and lets every session go', async function () {
    this.timeout(60_000);
    h = await startHarness();
    const cap = h.server.options.maxConnectionsPerIp;
    assert.equal(cap, 50, 'the IMAP default');
    const clients: Raw[] = [];
    for (let batch = 0; batch < 20; batch++) {
      clients.push(...(await Promise.all(Array.from({ length: 100 }, () => client(h!.port)))));
    }
    const first = await Promise.all(clients.map((c) => c.line().catch(() => 'closed')));
    assert.equal(first.filter((l) => GREETING.test(l)).length, cap);
    assert.equal(first.filter((l) => REFUSAL.test(l)).length, 2000 - cap);
    assert.equal(h.server.connections, cap);
    const other = await client(h.port, '127.0.0.2');
    assert.match(await other.line(), GREETING);
    other.socket.write('o LOGOUT\r\n');
    await other.closed();
    for (const c of clients) c.socket.destroy();
    await until('every session gone', () => h!.server.connections === 0);
  });
});
