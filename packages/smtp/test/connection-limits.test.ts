/**
 * Issue 19 item 5 over real sockets: per-IP and global caps on SMTP listeners (refusal
 * `421 4.7.0`, RFC 5321 §3.8; a plain close on implicit TLS), the slot given back however a
 * connection ends, the command-line deadline a trickling client cannot extend, and the pre-auth
 * deadline of submission (not of MX, whose clients never log in). 127.0.0.2 is "another
 * address" (all of 127/8 is loopback on Linux).
 */
import assert from 'node:assert/strict';
import type * as net from 'node:net';
import { ALICE, ALICE_PW, startHarness, type Harness } from './e2e-harness.js';
import { connectRawLines as raw, waitUntil as until, type RawLineClient as Raw } from '@postern/core';

const GREETING = /^220 /;
const REFUSAL = /^421 4\.7\.0 /;

describe('SMTP connection limits', () => {
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

  it('refuses the connection past maxConnectionsPerIp with 421 4.7.0, serves another address, and gives the slot back after a reset', async () => {
    h = await startHarness({ role: 'mx', maxConnectionsPerIp: 2 });
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
    h = await startHarness({ role: 'mx', maxConnections: 2 });
    const a = await client(h.port);
    const b = await client(h.port, '127.0.0.2');
    await a.line();
    await b.line();
    const c = await client(h.port, '127.0.0.3');
    assert.match((await c.closed())[0]!, REFUSAL);
  });

  it('closes a refused implicit-TLS connection without a word, and gives back the slot of one that died mid-handshake', async () => {
    h = await startHarness({ role: 'submission', maxConnectionsPerIp: 1 });
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
    h = await startHarness({ role: 'mx', commandTimeoutMs: 600, idleTimeoutMs: 300 });
    const slow = await client(h.port);
    assert.match(await slow.line(), GREETING);
    const drip = setInterval(() => slow.socket.write('a'), 100);
    const other = await client(h.port, '127.0.0.2');
    assert.match(await other.line(), GREETING);
    other.socket.write('NOOP\r\n');
    assert.match(await other.line(), /^250 /);
    const lines = await slow.closed();
    clearInterval(drip);
    assert.equal(lines[lines.length - 1], '421 4.4.2 Command not completed in time, closing connection');
  });

  it('drops a DATA block trickling in one byte every 50 ms once a commandTimeoutMs passes with less than 1 KiB', async () => {
    h = await startHarness({ role: 'mx', commandTimeoutMs: 600, idleTimeoutMs: 300 });
    const slow = await client(h.port);
    await slow.line();
    for (const cmd of [
      'HELO slow.example',
      'MAIL FROM:<x@remote.example>',
      'RCPT TO:<alice@example.org>',
      'DATA',
    ]) {
      slow.socket.write(`${cmd}\r\n`);
      assert.match(await slow.line(), /^[23]/, cmd);
    }
    const drip = setInterval(() => slow.socket.write('a'), 50);
    const lines = await slow.closed();
    clearInterval(drip);
    assert.equal(lines[lines.length - 1], '421 4.4.2 Command not completed in time, closing connection');
  });

  it('ends a submission session that has not authenticated within preAuthTimeoutMs; AUTH lifts the deadline', async () => {
    h = await startHarness({ role: 'submission', preAuthTimeoutMs: 500, allowInsecureAuth: true });
    const busy = await client(h.port);
    await busy.line();
    const noop = setInterval(() => busy.socket.write('NOOP\r\n'), 50);
    const user = await client(h.port);
    await user.line();
    user.socket.write('EHLO client.example\r\n');
    for (let l = await user.line(); !l.startsWith('250 '); l = await user.line());
    user.socket.write(`AUTH PLAIN ${Buffer.from(`\0${ALICE}\0${ALICE_PW}`).toString('base64')}\r\n`);
    assert.match(await user.line(), /^235 /);
    const lines = await busy.closed();
    clearInterval(noop);
    assert.equal(lines[lines.length - 1], '421 4.4.2 Not authenticated in time, closing connection');
    await new Promise((r) => setTimeout(r, 300));
    user.socket.write('NOOP\r\n');
    assert.match(await user.line(), /^250 /);
  });

  it('applies no pre-auth deadline on the MX role, and keeps 20 per address as the default there', async () => {
    h = await startHarness({ role: 'mx', preAuthTimeoutMs: 200 });
    assert.equal(h.server.options.preAuthTimeoutMs, 0);
    assert.equal(h.server.options.maxConnectionsPerIp, 20);
    const peer = await client(h.port);
    await peer.line();
    await new Promise((r) => setTimeout(r, 400));
    peer.socket.write('NOOP\r\n');
    assert.match(await peer.line(), /^250 /);
  });
});
