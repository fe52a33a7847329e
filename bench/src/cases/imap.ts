/**
 * IMAP cases (issue 9): SELECT and `FETCH 1:* (FLAGS ENVELOPE)` on 10k- and 100k-message
 * mailboxes, Postern against Dovecot (Debian's dovecot-imapd) in the same run.
 *
 * Both servers hold the same messages (protocol-child.ts generates them): Postern's memory
 * store filled with store.mail.deliver in a child process, Dovecot's maildir written as files
 * by the bench. Dovecot runs from a temp config dir (`dovecot -F -c`), on a free loopback
 * port, passwd-file user, no SSL. Both are spoken to in plaintext by the same raw-socket
 * client, timed from writing the command to reading its tagged OK; each round is a fresh
 * connection (LOGIN and, for FETCH, SELECT untimed). Setup runs each command once on both
 * sides before timing, so Dovecot's index and cache are built and Postern's code is warm.
 * Without a `dovecot` binary the cases are skipped with a one-line note.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { connect, createServer, type AddressInfo, type Socket } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import { delimiter, join } from 'node:path';
import type { BenchCase } from '../harness.js';
import {
  BENCH_USER,
  mailFlags,
  mailMessage,
  startProtocolChild,
  type ProtocolChild,
} from '../protocol-child.js';

// ---- a minimal raw IMAP client ---------------------------------------------------------------

export interface ImapReply {
  ms: number;
  status: string;
  bytes: number;
  /** The whole response, when asked to keep it. */
  text?: string;
}

/** Just enough IMAP to time a command: unique tags, and the tagged line found at the end of the data. */
class RawImap {
  private tail = '';
  private greeted: (() => void) | undefined;
  private pending:
    | {
        tag: string;
        t0: number;
        bytes: number;
        chunks?: Buffer[];
        resolve(r: ImapReply): void;
        reject(e: Error): void;
      }
    | undefined;
  private tagNo = 0;
  private failure: Error | undefined;

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(new Error('IMAP connection closed')));
  }

  static async open(port: number): Promise<RawImap> {
    const socket = connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    const c = new RawImap(socket);
    await new Promise<void>((resolve, reject) => {
      c.greeted = resolve;
      socket.once('error', reject);
    });
    return c;
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const p = this.pending;
    this.pending = undefined;
    p?.reject(err);
  }

  private onData(d: Buffer): void {
    // Only the last bytes matter: the tagged reply ends the response.
    this.tail = (this.tail + d.toString('latin1', Math.max(0, d.length - 1024))).slice(-1024);
    if (this.greeted) {
      if (/^\* (OK|PREAUTH)[^\r\n]*\r\n/.test(this.tail)) {
        const g = this.greeted;
        this.greeted = undefined;
        g();
      }
      return;
    }
    const p = this.pending;
    if (!p) return;
    p.bytes += d.length;
    p.chunks?.push(d);
    if (!this.tail.endsWith('\r\n')) return;
    const start = this.tail.lastIndexOf('\r\n', this.tail.length - 3);
    const line = this.tail.slice(start + 2, -2);
    // The data before every response ends in CRLF (greeting, previous reply), so start is found.
    if (start === -1 || !line.startsWith(`${p.tag} `)) return;
    const ms = performance.now() - p.t0;
    this.pending = undefined;
    p.resolve({
      ms,
      status: line.slice(p.tag.length + 1),
      bytes: p.bytes,
      text: p.chunks && Buffer.concat(p.chunks).toString('latin1'),
    });
  }

  /** Send one command and time it to its tagged reply; a NO or BAD rejects. */
  command(command: string, keep = false): Promise<ImapReply> {
    if (this.failure) return Promise.reject(this.failure);
    const tag = `T${++this.tagNo}`;
    return new Promise<ImapReply>((resolve, reject) => {
      this.pending = {
        tag,
        t0: performance.now(),
        bytes: 0,
        chunks: keep ? [] : undefined,
        resolve: (r) =>
          r.status.startsWith('OK') ? resolve(r) : reject(new Error(`${command.split(' ')[0]}: ${r.status}`)),
        reject,
      };
      this.socket.write(`${tag} ${command}\r\n`);
    });
  }

  close(): void {
    this.socket.removeAllListeners('close');
    this.socket.on('error', () => undefined);
    this.socket.destroy();
  }
}

const LOGIN = `LOGIN "${BENCH_USER.address}" "${BENCH_USER.password}"`;
const FETCH = 'FETCH 1:* (FLAGS ENVELOPE)';

/** One fresh session: LOGIN (and SELECT when `select`), then `command` timed. */
async function timed(port: number, command: string, select: boolean, keep = false): Promise<ImapReply> {
  const c = await RawImap.open(port);
  try {
    await c.command(LOGIN);
    if (select) await c.command('SELECT INBOX');
    return await c.command(command, keep);
  } finally {
    c.close();
  }
}

// ---- Dovecot ---------------------------------------------------------------------------------

export function findProgram(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(delimiter), '/usr/sbin', '/usr/local/sbin', '/sbin'];
  return dirs
    .filter((d) => d.startsWith('/'))
    .map((d) => join(d, name))
    .find((p) => existsSync(p));
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** The account Dovecot's mail processes run as: ours, or `nobody` when we are root (Dovecot refuses uid 0). */
function mailAccount(): { uid: number; gid: number; user: string; group: string; root: boolean } {
  const me = userInfo();
  if (me.uid !== 0) {
    const group = readFileSync('/etc/group', 'utf8')
      .split('\n')
      .map((l) => l.split(':'))
      .find((f) => Number(f[2]) === me.gid)?.[0];
    return { uid: me.uid, gid: me.gid, user: me.username, group: group ?? me.username, root: false };
  }
  const nobody = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .map((l) => l.split(':'))
    .find((f) => f[0] === 'nobody');
  return {
    uid: Number(nobody?.[2] ?? 65534),
    gid: Number(nobody?.[3] ?? 65534),
    user: 'nobody',
    group: '',
    root: true,
  };
}

interface Dovecot {
  port: number;
  stop(): Promise<void>;
}

const liveDovecots = new Map<ChildProcess, string>();
process.once('exit', () => {
  for (const [child, dir] of liveDovecots) {
    child.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
});
process.once('SIGINT', () => process.exit(130));

/** Write `n` messages as maildir files, flags in the names, in UID order by name. */
function writeMaildir(dir: string, n: number, owner: { uid: number; gid: number } | undefined): void {
  for (const sub of ['', 'cur', 'new', 'tmp']) mkdirSync(join(dir, sub), { recursive: true });
  const base = 1_700_000_000;
  for (let i = 0; i < n; i++) {
    const msg = mailMessage(i);
    const flags = mailFlags(i)
      .map((f) => (f === '\\Seen' ? 'S' : f === '\\Flagged' ? 'F' : ''))
      .sort()
      .join('');
    const file = join(dir, 'cur', `${base + i}.M${i}P1.postern-bench,S=${msg.length}:2,${flags}`);
    writeFileSync(file, msg);
    if (owner) chownSync(file, owner.uid, owner.gid);
  }
  // Directories modified this very second look "dirty" to Dovecot (mtimes have 1 s resolution),
  // so it would rescan cur/ on every SELECT for a while; date them back as on a settled mailbox.
  const past = new Date(Date.now() - 3_600_000);
  for (const sub of ['', 'cur', 'new', 'tmp']) {
    if (owner) chownSync(join(dir, sub), owner.uid, owner.gid);
    utimesSync(join(dir, sub), past, past);
  }
}

async function startDovecot(binary: string, n: number): Promise<Dovecot> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-dovecot-'));
  chmodSync(dir, 0o755); // Dovecot's auth process runs as its own user and reads the passwd file
  const acct = mailAccount();
  const owner = acct.root ? { uid: acct.uid, gid: acct.gid } : undefined;
  let child: ChildProcess | undefined;
  const stop = async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child!.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child!.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
    if (child) liveDovecots.delete(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = await freePort();
    for (const sub of ['run', 'state', 'home', 'mail']) mkdirSync(join(dir, sub));
    if (owner) for (const sub of ['home', 'mail']) chownSync(join(dir, sub), owner.uid, owner.gid);
    writeFileSync(join(dir, 'passwd'), `${BENCH_USER.address}:{PLAIN}${BENCH_USER.password}\n`);
    writeMaildir(join(dir, 'mail', BENCH_USER.address), n, owner);
    const users = acct.root
      ? ''
      : `default_internal_user = ${acct.user}\ndefault_login_user = ${acct.user}\ndefault_internal_group = ${acct.group}\n`;
    const conf = `# written by the Postern bench (bench/src/cases/imap.ts)
base_dir = ${dir}/run
state_dir = ${dir}/state
log_path = ${dir}/dovecot.log
${users}protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain
first_valid_uid = ${acct.uid}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${acct.uid} gid=${acct.gid} home=${dir}/home/%u
}
mail_location = maildir:${dir}/mail/%u
service imap-login {${acct.root ? '' : '\n  chroot ='}
  inet_listener imap {
    address = 127.0.0.1
    port = ${port}
  }
  inet_listener imaps {
    port = 0
  }
}
`;
    writeFileSync(join(dir, 'dovecot.conf'), conf);
    const out = openSync(join(dir, 'master.out'), 'w');
    child = spawn(binary, ['-F', '-c', join(dir, 'dovecot.conf')], { stdio: ['ignore', out, out] });
    closeSync(out);
    liveDovecots.set(child, dir);
    child.unref(); // a run filtered to one case must still end; the exit hook stops it
    const started = child;
    const deadline = Date.now() + 15_000;
    for (;;) {
      if (started.exitCode !== null)
        throw new Error(`dovecot exited: ${readFileSync(join(dir, 'master.out'), 'utf8').trim()}`);
      try {
        const c = await RawImap.open(port);
        c.close();
        break;
      } catch {
        if (Date.now() > deadline) throw new Error('dovecot did not start listening within 15 s');
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    return { port, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

// ---- the cases -------------------------------------------------------------------------------

/** Both servers for one mailbox size, started once for the SELECT and FETCH cases. */
class Rig {
  postern: ProtocolChild | undefined;
  dovecot: Dovecot | undefined;
  private starting: Promise<void> | undefined;

  constructor(
    readonly binary: string,
    readonly n: number,
  ) {}

  ensure(): Promise<void> {
    this.starting ??= this.start().catch(async (err: unknown) => {
      this.starting = undefined;
      await this.stop();
      throw err;
    });
    return this.starting;
  }

  private async start(): Promise<void> {
    const [p, d] = await Promise.allSettled([
      startProtocolChild({ protocol: 'imap', store: 'memory', messages: this.n }),
      startDovecot(this.binary, this.n),
    ]);
    if (p.status === 'fulfilled') this.postern = p.value;
    if (d.status === 'fulfilled') this.dovecot = d.value;
    if (p.status === 'rejected') throw p.reason;
    if (d.status === 'rejected') throw d.reason;
    // Warm up (twice: Dovecot builds its index and cache, then settles them) and check that
    // both answer every message.
    for (const port of [this.postern!.port, this.dovecot!.port]) {
      for (let i = 0; i < 2; i++) {
        await timed(port, 'SELECT INBOX', false);
        const r = await timed(port, FETCH, true, true);
        const count = r.text!.match(/^\* \d+ FETCH /gm)?.length ?? 0;
        if (count !== this.n)
          throw new Error(`FETCH on port ${port} answered ${count} of ${this.n} messages`);
      }
    }
  }

  async stop(): Promise<void> {
    const p = this.postern;
    const d = this.dovecot;
    this.postern = this.dovecot = undefined;
    this.starting = undefined;
    await Promise.all([p?.stop(), d?.stop()]);
  }
}

const label = (n: number) => `${n / 1000}k`;

export function imapCases(quick: boolean): BenchCase[] {
  const binary = findProgram('dovecot');
  if (!binary) {
    process.stderr.write(
      'bench: imap cases skipped: dovecot not installed (apt-get install dovecot-imapd)\n',
    );
    return [];
  }
  const common =
    'plaintext IMAP on loopback, same raw client, ms from command to tagged OK, fresh session per round; Postern memory store in a child process, Dovecot maildir; ratio = dovecot/postern';
  const selectNote = `${common}; Postern lists every UID and flags from the store on SELECT, Dovecot reads its index`;
  const fetchNote = `${common}; both answers are byte-identical apart from the tagged OK text`;
  return (quick ? [10_000] : [10_000, 100_000]).flatMap((n): BenchCase[] => {
    const rig = new Rig(binary, n);
    const rounds = n >= 100_000 ? { quick: 3, full: 5 } : { quick: 5, full: 7 };
    return [
      {
        name: `imap SELECT ${label(n)} messages`,
        unit: 'ms',
        lowerIsBetter: true,
        peerName: 'dovecot',
        rounds,
        note: selectNote,
        setup: () => rig.ensure(),
        postern: async () => (await timed(rig.postern!.port, 'SELECT INBOX', false)).ms,
        peer: async () => (await timed(rig.dovecot!.port, 'SELECT INBOX', false)).ms,
      },
      {
        name: `imap FETCH 1:* (FLAGS ENVELOPE) ${label(n)} messages`,
        unit: 'ms',
        lowerIsBetter: true,
        peerName: 'dovecot',
        rounds,
        note: fetchNote,
        setup: () => rig.ensure(),
        postern: async () => (await timed(rig.postern!.port, FETCH, true)).ms,
        peer: async () => (await timed(rig.dovecot!.port, FETCH, true)).ms,
        teardown: () => rig.stop(),
      },
    ];
  });
}
