/**
 * A fleet of two `postern serve` processes sharing one Redis (`--store redis://…`), as the
 * issue asks: mail submitted to process A over SMTP is fetched over IMAP from process B,
 * and an IDLE session on B is told of it (RFC 2177) through Redis pub/sub. Then Redis
 * restarts under a live SMTP transaction: the transaction gets 451 at the end of DATA
 * (RFC 5321 §4.2.5: a temporary failure, the client keeps the message), no process
 * crashes, and once Redis is back a new attempt is accepted without anyone restarting.
 */
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import { requireProgram } from '@postern/core';
import { runCli, startServe, type ServeProcess } from './helpers.js';
import { startRedisServer, type RedisServer } from '@postern/store/testing';

const USER = { address: 'fleet@example.test', password: 'fleet-pw' };
const PORTS = ['smtps', 'imaps', 'pop3', 'pop3s', 'nntp', 'nntps'].flatMap((l) => [`--${l}-port`, 'off']);

/** A line-oriented conversation over TCP (SMTP or IMAP), waiting for a line that matches. */
class Conversation {
  private buf = '';
  private readonly lines: string[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  private constructor(private readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => {
      this.buf += d;
      let nl;
      while ((nl = this.buf.indexOf('\r\n')) !== -1) {
        this.lines.push(this.buf.slice(0, nl));
        this.buf = this.buf.slice(nl + 2);
      }
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
    socket.on('error', () => undefined);
  }

  static open(port: number): Promise<Conversation> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Conversation(s)));
      s.once('error', reject);
    });
  }

  send(text: string): void {
    this.socket.write(text);
  }

  /** Lines up to and including the first that matches (mocha's timeout bounds the wait). */
  async until(pattern: RegExp): Promise<string> {
    for (;;) {
      const i = this.lines.findIndex((l) => pattern.test(l));
      if (i !== -1) return this.lines.splice(0, i + 1)[i]!;
      if (this.closed) throw new Error(`connection closed before ${pattern}`);
      await new Promise<void>((r) => (this.wake = r));
    }
  }

  close(): void {
    this.socket.destroy();
  }
}

function mx(port: number) {
  return nodemailer.createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true } as never);
}

describe('a fleet of postern processes on one Redis', function () {
  this.timeout(60_000);
  let redis: RedisServer | undefined;
  let a: ServeProcess | undefined;
  let b: ServeProcess | undefined;

  before(async function () {
    requireProgram(this, 'redis-server');
    // AOF, fsync on every write: users and acknowledged mail survive the restart below.
    redis = await startRedisServer({ appendfsync: 'always' });
    const store = ['--store', redis.url(0)];
    // The admin CLI writes to the same Redis: every process of the fleet sees the user.
    const added = await runCli(['user', 'add', USER.address, '--password', USER.password, ...store]);
    assert.equal(added.code, 0, added.stderr);
    const serve = [
      ...store,
      '--domain',
      'example.test',
      '--allow-insecure-auth',
      '--log-level',
      'silent',
      ...PORTS,
    ];
    a = await startServe([...serve, '--smtp-port', '0', '--submission-port', '0', '--imap-port', '0']);
    b = await startServe([...serve, '--smtp-port', '0', '--submission-port', '0', '--imap-port', '0']);
  });

  after(async () => {
    await a?.stop();
    await b?.stop();
    await redis?.stop();
  });

  it('mail submitted to A is announced to an IDLE session on B and fetched over IMAP from B', async () => {
    // RFC 2177: IDLE on B, then the delivery on A; B must say EXISTS without being asked.
    const idle = await Conversation.open(b!.ports.imap!);
    try {
      await idle.until(/^\* OK/);
      idle.send(`a1 LOGIN ${USER.address} ${USER.password}\r\n`);
      await idle.until(/^a1 OK/);
      idle.send('a2 SELECT INBOX\r\n');
      assert.match(await idle.until(/^\* \d+ EXISTS/), /^\* 0 EXISTS/);
      await idle.until(/^a2 OK/);
      idle.send('a3 IDLE\r\n');
      await idle.until(/^\+ /);

      const info = await mx(a!.ports.smtp!).sendMail({
        from: 'sender@remote.test',
        to: USER.address,
        subject: 'across the fleet',
        text: 'delivered by A, read from B',
      });
      assert.equal(info.accepted.length, 1);

      assert.equal(await idle.until(/^\* \d+ EXISTS/), '* 1 EXISTS');
      idle.send('DONE\r\n');
      await idle.until(/^a3 OK/);
    } finally {
      idle.close();
    }

    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: b!.ports.imap!,
      secure: false,
      doSTARTTLS: false,
      auth: { user: USER.address, pass: USER.password },
      logger: false,
    } as never);
    await imap.connect();
    try {
      const lock = await imap.getMailboxLock('INBOX');
      try {
        const msg = await imap.fetchOne('*', { envelope: true, source: true });
        assert.ok(msg);
        assert.equal(msg.envelope?.subject, 'across the fleet');
        assert.match(msg.source!.toString(), /delivered by A, read from B/);
      } finally {
        lock.release();
      }
    } finally {
      await imap.logout();
    }
  });

  it('a Redis restart under a live SMTP transaction gives 451 at DATA end; the next attempt succeeds', async () => {
    const smtp = await Conversation.open(a!.ports.smtp!);
    try {
      await smtp.until(/^220 /);
      smtp.send('EHLO client.remote.test\r\n');
      await smtp.until(/^250 /);
      smtp.send('MAIL FROM:<sender@remote.test>\r\n');
      await smtp.until(/^250 /);
      smtp.send(`RCPT TO:<${USER.address}>\r\n`);
      await smtp.until(/^250 /);
      smtp.send('DATA\r\n');
      await smtp.until(/^354 /);
      smtp.send('Subject: in flight\r\n\r\nthis one meets a dead Redis\r\n');

      await redis!.kill(true);
      smtp.send('.\r\n');
      const reply = await smtp.until(/^\d{3} /);
      assert.match(
        reply,
        /^451 4\.3\.0 /,
        'a temporary failure, so the client keeps the message and retries',
      );
      smtp.send('QUIT\r\n');
      await smtp.until(/^221 /);
    } finally {
      smtp.close();
    }
    assert.equal(a!.child.exitCode, null, 'process A is still running');
    assert.equal(b!.child.exitCode, null, 'process B is still running');

    await redis!.restart();
    // The processes reconnect by themselves; until they have, a client is told 451 again
    // (never anything else), as a sending MTA would be, and its next try goes through.
    for (;;) {
      try {
        const info = await mx(a!.ports.smtp!).sendMail({
          from: 'sender@remote.test',
          to: USER.address,
          subject: 'after the restart',
          text: 'accepted once Redis is back',
        });
        assert.equal(info.accepted.length, 1);
        break;
      } catch (err) {
        assert.equal((err as { responseCode?: number }).responseCode, 451, String(err));
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const imap = new ImapFlow({
      host: '127.0.0.1',
      port: b!.ports.imap!,
      secure: false,
      doSTARTTLS: false,
      auth: { user: USER.address, pass: USER.password },
      logger: false,
    } as never);
    await imap.connect();
    try {
      const box = await imap.mailboxOpen('INBOX');
      // The message acknowledged before the restart is still there (AOF), the one answered
      // 451 never was, and the one accepted after it is.
      const subjects: string[] = [];
      for await (const m of imap.fetch('1:*', { envelope: true })) subjects.push(m.envelope?.subject ?? '');
      assert.deepEqual(subjects, ['across the fleet', 'after the restart']);
      assert.equal(box.exists, 2);
    } finally {
      await imap.logout();
    }
  });
});
