/**
 * `postern serve --store redis://… --domain example.test`, then Redis loses everything
 * (FLUSHALL). Mail for the domain given on the command line must get a temporary failure
 * (4xx: the sender retries), never `550 5.7.1 relaying denied` or `550 5.1.1` (a bounce):
 * domains given at start-up are always local, and a store that lost its accounts cannot
 * say that a user does not exist (issue 19, item 8).
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { requireProgram } from '@postern/core';
import { startRedisServer, type RedisServer } from '@postern/store/testing';
import { runCli, startServe, type ServeProcess } from './helpers.js';

const OFF = ['submission', 'smtps', 'imap', 'imaps', 'pop3', 'pop3s', 'nntp', 'nntps'].flatMap((l) => [
  `--${l}-port`,
  'off',
]);

/** An SMTP client that sends one line at a time and returns the final line of each reply. */
class Smtp {
  private buf = '';
  private waiting: ((line: string) => void) | undefined;
  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      this.deliver();
    });
    socket.on('error', () => undefined);
  }
  static async open(port: number): Promise<Smtp> {
    const s = await new Promise<Socket>((resolve, reject) => {
      const c = connect(port, '127.0.0.1', () => resolve(c));
      c.once('error', reject);
    });
    const smtp = new Smtp(s);
    await smtp.reply();
    return smtp;
  }
  private deliver(): void {
    // The last line of a reply has a space after the code (RFC 5321 §4.2.1).
    const m = /^(?:\d{3}-.*\r\n)*(\d{3} .*)\r\n/.exec(this.buf);
    if (!m || !this.waiting) return;
    this.buf = this.buf.slice(m[0].length);
    const w = this.waiting;
    this.waiting = undefined;
    w(m[1]!);
  }
  reply(): Promise<string> {
    return new Promise((resolve) => {
      this.waiting = resolve;
      this.deliver();
    });
  }
  async send(line: string): Promise<string> {
    this.socket.write(line + '\r\n');
    return this.reply();
  }
  close(): void {
    this.socket.destroy();
  }
}

async function rcptReply(port: number, to: string): Promise<string> {
  const smtp = await Smtp.open(port);
  try {
    assert.match(await smtp.send('EHLO client.test'), /^250 /);
    assert.match(await smtp.send('MAIL FROM:<someone@remote.test>'), /^250 /);
    return await smtp.send(`RCPT TO:<${to}>`);
  } finally {
    smtp.close();
  }
}

describe('a redis store emptied under a running gateway', function () {
  this.timeout(40_000);
  let redis: RedisServer | undefined;
  let srv: ServeProcess | undefined;

  before(async function () {
    requireProgram(this, 'redis-server');
    redis = await startRedisServer();
    const store = ['--store', redis.url(0)];
    const added = await runCli(['user', 'add', 'ann@example.test', '--password', 'pw-ann', ...store]);
    assert.equal(added.code, 0, added.stderr);
    srv = await startServe([
      ...store,
      '--domain',
      'example.test',
      '--log-level',
      'silent',
      '--smtp-port',
      '0',
      ...OFF,
    ]);
  });
  after(async () => {
    await srv?.stop();
    await redis?.stop();
  });

  it('answers 4xx, never 5xx, for the --domain once Redis comes back empty', async () => {
    const port = srv!.ports.smtp!;
    // Healthy: ann is there, nobody is unknown (a permanent answer is right).
    assert.match(await rcptReply(port, 'ann@example.test'), /^250 /);
    assert.match(await rcptReply(port, 'nobody@example.test'), /^550 5\.1\.1 /);

    const flushed = await new Promise<string>((resolve, reject) => {
      const s = connect(redis!.port, '127.0.0.1', () => s.write('FLUSHALL\r\n'));
      s.setEncoding('utf8');
      s.on('data', (d: string) => (s.destroy(), resolve(d.trim())));
      s.on('error', reject);
    });
    assert.equal(flushed, '+OK');

    for (const to of ['ann@example.test', 'nobody@example.test', 'postmaster@example.test']) {
      const reply = await rcptReply(port, to);
      assert.match(reply, /^4\d\d /, `${to}: ${reply}`);
    }
    // Other domains are still not relayed for strangers.
    assert.match(await rcptReply(port, 'someone@elsewhere.test'), /^550 5\.7\.1 /);
  });
});
