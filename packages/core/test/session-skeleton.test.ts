/**
 * SessionSkeleton over real loopback sockets, with a toy echo protocol filling in the hooks:
 * greeting, the read loop, counted refusals (line too long among them), each deadline's own
 * goodbye, the shutdown goodbye (at once when idle, after the command when busy), cleanup
 * exactly once however the session ends, and implicit TLS before the greeting.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as net from 'node:net';
import * as tls from 'node:tls';
import { CertificateStore } from '../src/certs/certificate-store.js';
import { generateSelfSigned } from '../src/certs/self-signed.js';
import { silentLogger } from '../src/logging.js';
import {
  SessionSkeleton,
  type DeadlineKind,
  type LineOutcome,
  type Refusal,
  type SessionLimits,
} from '../src/server/session-skeleton.js';
import type { TlsSettings } from '../src/protocol.js';
import { NativeTlsEngine } from '../src/tls/native.js';
import { connectLines } from './helpers/line-client.js';

const HOST = 'echo.postern.test';
const refusal = (text: string, fatal = false): Refusal => ({ reply: `- ${text}\r\n`, counts: true, fatal });

/**
 * "+ hello"; `QUIT`; `BAD` (a counted error); `FATAL`; `SLOW` (answers when `release()` is
 * called); `LOGIN` (lifts the pre-auth deadline); anything else is echoed as "= line".
 */
class EchoSession extends SessionSkeleton {
  cleanups = 0;
  private releaseSlow: (() => void) | undefined;
  slowStarted: Promise<void>;
  private markSlow!: () => void;

  constructor(socket: net.Socket, limits: SessionLimits, maxErrors: number, tlsSettings?: TlsSettings) {
    super({
      stream: socket,
      limits,
      log: silentLogger,
      implicitTls: tlsSettings !== undefined,
      tls: tlsSettings ?? ({} as TlsSettings),
      maxErrors,
    });
    this.slowStarted = new Promise((resolve) => (this.markSlow = resolve));
  }

  release(): void {
    this.releaseSlow?.();
  }

  protected async greet(): Promise<LineOutcome> {
    await this.channel.write('+ hello\r\n');
    return undefined;
  }

  protected async handleLine(line: string): Promise<LineOutcome> {
    switch (line) {
      case 'QUIT':
        await this.channel.write('+ bye\r\n');
        return 'quit';
      case 'BAD':
        return this.reject(refusal('bad'));
      case 'FATAL':
        return this.reject(refusal('fatal', true));
      case 'LOGIN':
        this.channel.authenticated();
        await this.channel.write('+ welcome\r\n');
        return undefined;
      case 'SLOW':
        await new Promise<void>((resolve) => {
          this.releaseSlow = resolve;
          this.markSlow();
        });
        await this.channel.write('+ slow done\r\n');
        return undefined;
      default:
        await this.channel.write(`= ${line}\r\n`);
        return undefined;
    }
  }

  protected lineTooLong(): Refusal {
    return refusal('too long');
  }
  protected tooManyErrors(last: Refusal): string {
    return `${last.reply}- too many errors\r\n`;
  }
  protected timeout(kind: DeadlineKind): string {
    return `- ${kind} timeout\r\n`;
  }
  protected shuttingDown(): string {
    return '- shutting down\r\n';
  }
  protected cleanup(): void {
    this.cleanups++;
  }
}

interface Rig {
  port: number;
  sessions: EchoSession[];
  runs: Array<Promise<void>>;
  close(): Promise<void>;
}

async function rig(limits: SessionLimits = {}, maxErrors = 3, tlsSettings?: TlsSettings): Promise<Rig> {
  const sessions: EchoSession[] = [];
  const runs: Array<Promise<void>> = [];
  const server = net.createServer((socket) => {
    const s = new EchoSession(socket, { idleTimeoutMs: 0, ...limits }, maxErrors, tlsSettings);
    sessions.push(s);
    runs.push(s.run());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    sessions,
    runs,
    async close() {
      for (const s of sessions) s.destroy();
      await Promise.all(runs);
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function until(what: string, cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting for ${what}`);
}

describe('SessionSkeleton', function () {
  this.timeout(15_000);
  let r: Rig | undefined;
  afterEach(async () => {
    await r?.close();
    r = undefined;
  });

  it('greets, serves lines until the protocol ends the session, and cleans up once', async () => {
    r = await rig();
    const c = await connectLines(r.port);
    assert.equal(await c.line(), '+ hello');
    c.write('ping\r\nQUIT\r\n');
    assert.deepEqual(await c.closed(), ['+ hello', '= ping', '+ bye']);
    await Promise.all(r.runs);
    assert.equal(r.sessions[0]!.cleanups, 1);
  });

  it('counts refusals, over-long lines among them, and ends the session at maxErrors with the protocol’s words', async () => {
    r = await rig({ maxLineLength: 64 }, 3);
    const c = await connectLines(r.port);
    await c.line();
    c.write(`BAD\r\n${'x'.repeat(200)}\r\nok\r\nBAD\r\nnever\r\n`);
    assert.deepEqual(await c.closed(), [
      '+ hello',
      '- bad',
      '- too long',
      '= ok',
      '- bad',
      '- too many errors',
    ]);
    await Promise.all(r.runs);
    assert.equal(r.sessions[0]!.cleanups, 1);
  });

  it('ends the session on a fatal refusal at once', async () => {
    r = await rig();
    const c = await connectLines(r.port);
    await c.line();
    c.write('FATAL\r\nnever\r\n');
    assert.deepEqual(await c.closed(), ['+ hello', '- fatal']);
  });

  it('says goodbye in the words of the deadline that ended the session: idle, command line, pre-auth', async () => {
    r = await rig({ idleTimeoutMs: 300 });
    const idle = await connectLines(r.port);
    assert.deepEqual(await idle.closed(), ['+ hello', '- idle timeout']);
    await r.close();

    r = await rig({ idleTimeoutMs: 250, commandTimeoutMs: 600 });
    const trickle = await connectLines(r.port);
    await trickle.line();
    const drip = setInterval(() => trickle.write('a'), 50);
    const lines = await trickle.closed();
    clearInterval(drip);
    assert.deepEqual(lines, ['+ hello', '- command timeout']);
    await r.close();

    r = await rig({ preAuthTimeoutMs: 500 });
    const busy = await connectLines(r.port);
    await busy.line();
    const noop = setInterval(() => busy.write('noop\r\n'), 50);
    const user = await connectLines(r.port);
    await user.line();
    user.write('LOGIN\r\n');
    assert.equal(await user.line(), '+ welcome');
    const busyLines = await busy.closed();
    clearInterval(noop);
    assert.equal(busyLines[busyLines.length - 1], '- pre-auth timeout');
    user.write('still here\r\n');
    assert.equal(await user.line(), '= still here', 'a login lifts the pre-auth deadline');
  });

  it('on a stop, an idle session says goodbye at once; a busy one finishes its command first', async () => {
    r = await rig();
    const idle = await connectLines(r.port);
    await idle.line();
    const busy = await connectLines(r.port);
    await busy.line();
    busy.write('SLOW\r\n');
    await until('two sessions', () => r!.sessions.length === 2);
    await r.sessions[1]!.slowStarted;
    for (const s of r.sessions) s.requestStop();
    for (const s of r.sessions) s.requestStop(); // twice: still one goodbye
    assert.deepEqual(await idle.closed(), ['+ hello', '- shutting down']);
    for (const s of r.sessions) s.release();
    assert.deepEqual(await busy.closed(), ['+ hello', '+ slow done', '- shutting down']);
    await Promise.all(r.runs);
    assert.deepEqual(
      r.sessions.map((s) => s.cleanups),
      [1, 1],
    );
  });

  it('cleans up once when the client resets the connection', async () => {
    r = await rig();
    const c = await connectLines(r.port);
    await c.line();
    c.socket.resetAndDestroy();
    await Promise.all(r.runs);
    assert.equal(r.sessions[0]!.cleanups, 1);
  });

  it('runs the implicit-TLS handshake before the greeting, and says nothing in plaintext', async () => {
    const key = await generateSelfSigned({ hostname: HOST });
    r = await rig({}, 3, {
      engine: new NativeTlsEngine(),
      server: { certificates: new CertificateStore([key]) },
    });
    const plain = await connectLines(r.port);
    plain.write('hello?\r\n');
    const secure = tls.connect({
      port: r.port,
      host: '127.0.0.1',
      ca: key.certificateChainPem,
      servername: HOST,
    });
    await once(secure, 'secureConnect');
    secure.setEncoding('latin1');
    let got = '';
    secure.on('data', (d: string) => (got += d));
    secure.write('ping\r\nQUIT\r\n');
    await once(secure, 'end');
    secure.destroy();
    assert.equal(got, '+ hello\r\n= ping\r\n+ bye\r\n');
    plain.destroy();
    const lines = await plain.closed();
    assert.deepEqual(lines, [], 'nothing in plaintext on an implicit-TLS connection');
  });
});
