/**
 * ProtocolServer over real loopback sockets: per-IP and global caps per listener, the slot
 * given back exactly once however a connection ends (QUIT, reset, timeout, shutdown, a factory
 * or a session that throws), refusals in the protocol's words (none on implicit TLS), and a
 * refusal log a flood cannot fill. 127.0.0.2 plays "another address" (all of 127/8 is loopback).
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';
import { ChannelClosedError, IdleTimeoutError } from '../src/errors.js';
import { LineChannel } from '../src/channel/line-channel.js';
import { ProtocolServer, type ServedSession } from '../src/server/protocol-server.js';
import { RefusalLog } from '../src/server/refusal-log.js';
import { silentLogger, type Logger } from '../src/logging.js';
import { connectLines, warnCollector } from './helpers/line-client.js';

/** A toy protocol: "+ hello", then echoes lines until QUIT; idle or stop → "- bye". */
class EchoSession implements ServedSession {
  readonly channel: LineChannel;
  private stopping = false;
  constructor(socket: net.Socket, idleTimeoutMs: number) {
    this.channel = new LineChannel(socket, { idleTimeoutMs });
  }
  requestStop(): void {
    this.stopping = true;
    void this.channel.write('- shutting down\r\n').then(
      () => this.channel.close(),
      () => undefined,
    );
  }
  destroy(): void {
    this.channel.destroy();
  }
  async run(): Promise<void> {
    try {
      await this.channel.write('+ hello\r\n');
      for (;;) {
        const line = await this.channel.readLine();
        if (line === 'QUIT' || this.stopping) break;
        await this.channel.write(`= ${line}\r\n`);
      }
    } catch (err) {
      if (err instanceof IdleTimeoutError) await this.channel.write('- bye\r\n').catch(() => undefined);
      else if (!(err instanceof ChannelClosedError)) throw err;
    } finally {
      await this.channel.close();
    }
  }
}

interface Rig {
  server: ProtocolServer<EchoSession>;
  port: number;
  tlsPort: number;
  close(): Promise<void>;
}

async function rig(
  limits: { maxConnections: number; maxConnectionsPerIp: number },
  more: { logger?: Logger; idleTimeoutMs?: number; factory?: (s: net.Socket) => EchoSession } = {},
): Promise<Rig> {
  const server = new ProtocolServer<EchoSession>({
    protocol: 'echo',
    limits,
    logger: more.logger ?? silentLogger,
    refusal: (reason) => `- busy (${reason})\r\n`,
    createSession: (socket) => (more.factory ?? ((s) => new EchoSession(s, more.idleTimeoutMs ?? 0)))(socket),
  });
  const handled: Array<Promise<void>> = [];
  const mk = (implicitTls: boolean) =>
    net.createServer((s) => handled.push(server.handleConnection(s, { implicitTls })));
  const plain = mk(false);
  const secure = mk(true);
  const listen = (l: net.Server) =>
    new Promise<number>((resolve) =>
      l.listen(0, '127.0.0.1', () => resolve((l.address() as net.AddressInfo).port)),
    );
  const port = await listen(plain);
  const tlsPort = await listen(secure);
  return {
    server,
    port,
    tlsPort,
    async close() {
      plain.close();
      secure.close();
      await server.shutdown(500);
      await Promise.all(handled);
    },
  };
}

/** Polls (bounded) until the server's count says so: slots come back once a session has ended. */
async function until(what: string, test: () => boolean): Promise<void> {
  for (let i = 0; i < 500; i++) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting: ${what}`);
}

describe('ProtocolServer: connection caps', () => {
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('refuses the connection past the per-IP cap in the protocol’s words; another address is served', async () => {
    r = await rig({ maxConnections: 100, maxConnectionsPerIp: 2 });
    const a = await connectLines(r.port);
    const b = await connectLines(r.port);
    assert.equal(await a.line(), '+ hello');
    assert.equal(await b.line(), '+ hello');
    const c = await connectLines(r.port);
    assert.deepEqual(await c.closed(), ['- busy (per-ip)']);
    const other = await connectLines(r.port, { localAddress: '127.0.0.2' });
    assert.equal(await other.line(), '+ hello');
    other.write('ping\r\n');
    assert.equal(await other.line(), '= ping');
    assert.equal(r.server.connections, 3);
    for (const x of [a, b, other]) x.destroy();
  });

  it('gives the slot back after a QUIT and after an abrupt reset', async () => {
    r = await rig({ maxConnections: 100, maxConnectionsPerIp: 1 });
    const a = await connectLines(r.port);
    await a.line();
    a.write('QUIT\r\n');
    await a.closed();
    await until('slot back after QUIT', () => r!.server.slotsInUse === 0);
    const b = await connectLines(r.port);
    assert.equal(await b.line(), '+ hello');
    b.socket.resetAndDestroy();
    await until('slot back after reset', () => r!.server.slotsInUse === 0);
    const c = await connectLines(r.port);
    assert.equal(await c.line(), '+ hello');
    c.destroy();
    await until('no session left', () => r!.server.connections === 0 && r!.server.addresses === 0);
  });

  it('caps the total across addresses', async () => {
    r = await rig({ maxConnections: 2, maxConnectionsPerIp: 10 });
    const a = await connectLines(r.port);
    const b = await connectLines(r.port, { localAddress: '127.0.0.2' });
    await a.line();
    await b.line();
    const c = await connectLines(r.port, { localAddress: '127.0.0.3' });
    assert.deepEqual(await c.closed(), ['- busy (global)']);
    a.destroy();
    await until('slot back', () => r!.server.slotsInUse === 1);
    const d = await connectLines(r.port, { localAddress: '127.0.0.3' });
    assert.equal(await d.line(), '+ hello');
    b.destroy();
    d.destroy();
  });

  it('counts each listener on its own and closes a refused implicit-TLS connection without a word', async () => {
    r = await rig({ maxConnections: 100, maxConnectionsPerIp: 1 });
    const plain = await connectLines(r.port);
    await plain.line();
    const t1 = await connectLines(r.tlsPort);
    assert.equal(await t1.line(), '+ hello', 'the implicit-TLS listener has its own count');
    const t2 = await connectLines(r.tlsPort);
    assert.deepEqual(await t2.closed(), [], 'nothing may be said before a TLS handshake');
    plain.destroy();
    t1.destroy();
  });

  it('gives the slot back when the session factory throws, and when run() rejects', async () => {
    let mode: 'throw' | 'reject' | 'ok' = 'throw';
    r = await rig(
      { maxConnections: 100, maxConnectionsPerIp: 1 },
      {
        factory: (s) => {
          if (mode === 'throw') throw new Error('no session today');
          const session = new EchoSession(s, 0);
          if (mode === 'reject') session.run = () => Promise.reject(new Error('broken session'));
          return session;
        },
      },
    );
    const a = await connectLines(r.port);
    assert.deepEqual(await a.closed(), []);
    mode = 'reject';
    const b = await connectLines(r.port);
    await b.closed();
    await until('slot back', () => r!.server.slotsInUse === 0 && r!.server.connections === 0);
    mode = 'ok';
    const c = await connectLines(r.port);
    assert.equal(await c.line(), '+ hello');
    c.destroy();
  });

  it('gives the slot back when the session times out', async () => {
    r = await rig({ maxConnections: 100, maxConnectionsPerIp: 1 }, { idleTimeoutMs: 100 });
    const a = await connectLines(r.port);
    assert.deepEqual(await a.closed(), ['+ hello', '- bye']);
    await until('slot back', () => r!.server.slotsInUse === 0);
    const b = await connectLines(r.port);
    assert.equal(await b.line(), '+ hello');
    b.destroy();
  });

  it('shutdown says goodbye, refuses newcomers and leaves no session or slot', async () => {
    r = await rig({ maxConnections: 100, maxConnectionsPerIp: 5 });
    const clients = await Promise.all([1, 2, 3].map(() => connectLines(r!.port)));
    for (const c of clients) await c.line();
    await r.server.shutdown(1000);
    for (const c of clients) assert.deepEqual(await c.closed(), ['+ hello', '- shutting down']);
    assert.equal(r.server.connections, 0);
    assert.equal(r.server.slotsInUse, 0);
    const late = await connectLines(r.port);
    assert.deepEqual(await late.closed(), []);
  });

  it('logs a flood of refusals from one address once, at warn, with the address and the limit', async () => {
    const { logger, warnings } = warnCollector();
    r = await rig({ maxConnections: 100, maxConnectionsPerIp: 1 }, { logger });
    const a = await connectLines(r.port);
    await a.line();
    for (let i = 0; i < 20; i++) await (await connectLines(r.port)).closed();
    const refusals = warnings.filter((w) => w.msg === 'too many connections from one address');
    assert.equal(refusals.length, 1);
    assert.equal(refusals[0]!['remote'], '127.0.0.1');
    assert.equal(refusals[0]!['limit'], 1);
    a.destroy();
  });
});

describe('RefusalLog', () => {
  it('logs an address once per interval, says how many were suppressed, and bounds lines per interval', () => {
    const { logger, warnings } = warnCollector();
    let now = 0;
    const log = new RefusalLog(logger, { intervalMs: 1000, maxLinesPerInterval: 3, now: () => now });
    for (let i = 0; i < 5; i++) log.refused('10.0.0.1', {}, 'refused');
    assert.equal(warnings.length, 1);
    for (let i = 2; i <= 9; i++) log.refused(`10.0.0.${i}`, {}, 'refused');
    assert.equal(warnings.length, 3, 'at most three lines in the interval');
    now = 1000;
    log.refused('10.0.0.1', {}, 'refused');
    assert.equal(warnings.length, 4);
    assert.equal(warnings[3]!['suppressed'], 4 + 6, 'its own four and the six over budget');
  });
});
