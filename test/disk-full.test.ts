/**
 * A gateway on a full disk (issue 19, item 7), on a real full file system: a 4 MiB tmpfs
 * holds the fs store. Mail is delivered until the store refuses it (452 4.3.1: nothing
 * acknowledged is lost), then something else takes the last bytes. Users must still be able
 * to make room: IMAP LOGIN, STORE \Deleted and EXPUNGE, POP3 login, DELE and QUIT — and the
 * space must really come back, so mail is accepted again. Needs root (mount); skipped with
 * the reason otherwise.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, promises as fsp, rmdirSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type Gateway } from '@postern/server';

const ANN = { address: 'ann@example.test', password: 'pw-ann' };
const BOB = { address: 'bob@example.test', password: 'pw-bob' };
const MESSAGE_BODY = `${'All work and no play makes a full disk. '.repeat(25)}\r\n`.repeat(120); // ~120 KiB

/** A line conversation: `send` a line, `until` the first line matching. */
class Lines {
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
  static open(port: number): Promise<Lines> {
    return new Promise((resolve, reject) => {
      const s = connect(port, '127.0.0.1', () => resolve(new Lines(s)));
      s.once('error', reject);
    });
  }
  send(text: string): void {
    this.socket.write(text + '\r\n');
  }
  async until(pattern: RegExp): Promise<string> {
    for (;;) {
      const i = this.lines.findIndex((l) => pattern.test(l));
      if (i !== -1) return this.lines.splice(0, i + 1)[i]!;
      if (this.closed) throw new Error(`closed before ${pattern}`);
      await new Promise<void>((r) => (this.wake = r));
    }
  }
  async ask(text: string, pattern: RegExp): Promise<string> {
    this.send(text);
    return this.until(pattern);
  }
  close(): void {
    this.socket.destroy();
  }
}

/** One SMTP transaction; the reply to the end of DATA (or the first refusal before it). */
async function deliver(port: number, to: string, subject: string): Promise<string> {
  const c = await Lines.open(port);
  try {
    await c.until(/^220 /);
    await c.ask('EHLO client.test', /^250 /);
    const mail = await c.ask('MAIL FROM:<sender@remote.test>', /^\d{3} /);
    if (!mail.startsWith('250')) return mail;
    const rcpt = await c.ask(`RCPT TO:<${to}>`, /^\d{3} /);
    if (!rcpt.startsWith('250')) return rcpt;
    await c.ask('DATA', /^354 /);
    return await c.ask(`Subject: ${subject}\r\n\r\n${MESSAGE_BODY}.`, /^\d{3} /);
  } finally {
    c.close();
  }
}

async function freeBytes(dir: string): Promise<number> {
  const st = await fsp.statfs(dir);
  return st.bavail * st.bsize;
}

/** Write into `path` until the file system says ENOSPC: the disk is then full. */
async function fillUp(path: string): Promise<void> {
  const h = await fsp.open(path, 'a');
  const chunk = Buffer.alloc(4096, 0x5a);
  try {
    for (;;) await h.write(chunk);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
  } finally {
    await h.close();
  }
}

describe('a gateway on a full disk', function () {
  this.timeout(60_000);
  let mnt: string | undefined;
  let mounted = false;
  let gw: Gateway | undefined;

  before(async function () {
    mnt = mkdtempSync(join(tmpdir(), 'postern-full-'));
    const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m,mode=700', 'tmpfs', mnt], {
      encoding: 'utf8',
    });
    if (r.status !== 0) {
      const why = (r.stderr || r.error?.message || 'mount failed').trim().split('\n')[0];
      this.test!.parent!.title += ` (skipped: cannot mount a tmpfs: ${why})`;
      this.skip();
    }
    mounted = true;
    gw = await startGateway({
      store: 'fs',
      dataDir: mnt,
      domains: ['example.test'],
      users: [ANN, BOB],
      allowInsecureAuth: true,
      relay: 'capture',
      ports: { submission: 'off', smtps: 'off', imaps: 'off', pop3s: 'off', nntp: 'off', nntps: 'off' },
    });
  });

  after(async () => {
    await gw?.close();
    if (mounted && spawnSync('umount', [mnt!]).status !== 0) spawnSync('umount', ['-l', mnt!]);
    if (mnt) rmdirSync(mnt);
  });

  it('lets users delete over IMAP and POP3 on a full disk, and the space comes back', async () => {
    const smtp = gw!.ports.smtp!;
    // Fill the store with mail until it refuses more: a temporary 452, never a loss.
    const accepted = { ann: 0, bob: 0 };
    let refusal = '';
    for (let i = 0; i < 60 && !refusal; i++) {
      const who = i % 2 === 0 ? 'ann' : 'bob';
      const reply = await deliver(smtp, `${who}@example.test`, `message ${i}`);
      if (reply.startsWith('250')) accepted[who]++;
      else refusal = reply;
    }
    assert.match(refusal, /^452 4\.3\.1 /, 'a full store answers 452 4.3.1');
    assert.ok(accepted.ann >= 4 && accepted.bob >= 4, JSON.stringify(accepted));
    // Something else takes the last bytes: the disk is now completely full.
    await fillUp(join(mnt!, 'filler'));
    const full = await freeBytes(mnt!);

    // IMAP: log in, mark everything \Deleted, EXPUNGE.
    const imap = await Lines.open(gw!.ports.imap!);
    try {
      await imap.until(/^\* OK/);
      assert.match(await imap.ask(`a LOGIN ${ANN.address} ${ANN.password}`, /^a /), /^a OK/);
      assert.match(await imap.ask('b SELECT INBOX', /^b /), /^b OK/);
      // A write that needs space is refused as such (RFC 5530 OVERQUOTA), not as a server bug.
      const draft = 'Subject: draft\r\n\r\nno room for me\r\n';
      await imap.ask(`x APPEND Drafts {${draft.length}}`, /^\+ /);
      assert.match(await imap.ask(draft, /^x /), /^x NO \[OVERQUOTA\]/);
      // Many clients delete by moving to Trash first (RFC 6851 MOVE).
      assert.match(await imap.ask('m MOVE 1 Trash', /^m /), /^m OK/);
      assert.match(await imap.ask('c STORE 1:* +FLAGS.SILENT (\\Deleted)', /^c /), /^c OK/);
      assert.match(await imap.ask('d EXPUNGE', /^d /), /^d OK/);
      assert.match(await imap.ask('e STATUS INBOX (MESSAGES)', /^\* STATUS/), /\(MESSAGES 0\)/);
      assert.match(await imap.ask('t SELECT Trash', /^t /), /^t OK/);
      assert.match(await imap.ask('u STORE 1:* +FLAGS.SILENT (\\Deleted)', /^u /), /^u OK/);
      assert.match(await imap.ask('v EXPUNGE', /^v /), /^v OK/);
      assert.match(await imap.ask('w STATUS Trash (MESSAGES)', /^\* STATUS/), /\(MESSAGES 0\)/);
      await imap.ask('f LOGOUT', /^f /);
    } finally {
      imap.close();
    }
    const afterImap = await freeBytes(mnt!);
    assert.ok(
      afterImap - full >= (accepted.ann * MESSAGE_BODY.length) / 2,
      `only ${afterImap - full} bytes came back from ${accepted.ann} messages`,
    );
    assert.match(await deliver(smtp, ANN.address, 'after the expunge'), /^250 /, 'mail is accepted again');

    // Full again; then POP3: log in (the maildrop lock), DELE every message, QUIT.
    await fillUp(join(mnt!, 'filler'));
    const fullAgain = await freeBytes(mnt!);
    const pop = await Lines.open(gw!.ports.pop3!);
    try {
      await pop.until(/^\+OK/);
      assert.match(await pop.ask(`USER ${BOB.address}`, /^[+-]/), /^\+OK/);
      assert.match(await pop.ask(`PASS ${BOB.password}`, /^[+-]/), /^\+OK/);
      const stat = await pop.ask('STAT', /^[+-]/);
      assert.equal(stat.split(' ')[1], String(accepted.bob), stat);
      for (let n = 1; n <= accepted.bob; n++) assert.match(await pop.ask(`DELE ${n}`, /^[+-]/), /^\+OK/);
      assert.match(await pop.ask('QUIT', /^[+-]/), /^\+OK/);
    } finally {
      pop.close();
    }
    const afterPop = await freeBytes(mnt!);
    assert.ok(
      afterPop - fullAgain >= (accepted.bob * MESSAGE_BODY.length) / 2,
      `only ${afterPop - fullAgain} bytes came back from ${accepted.bob} messages`,
    );
  });
});
