/**
 * Memory cases: resident memory per idle IMAP connection (STARTTLS, LOGIN, SELECT, IDLE) at
 * N = 1,000 and 5,000, and RSS growth while a 100 MB message goes in over SMTP and out over
 * IMAP. The server runs in a child process; only its RSS is measured.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { ImapFlow } from 'imapflow';
import nodemailer from 'nodemailer';
import type { BenchCase } from '../harness.js';
import { BENCH_USER, benchUser, startGatewayProcess, type GatewayProcess } from '../gateway-process.js';

/** Resolves with everything read once `pattern` appears in the stream. */
function waitFor(stream: Socket | TLSSocket, pattern: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString('latin1');
      if (pattern.test(buf)) {
        stream.off('data', onData);
        stream.off('error', reject);
        resolve(buf);
      } else if (/^\w+ (NO|BAD) .*\r\n/m.test(buf)) {
        stream.off('data', onData);
        reject(new Error(`server refused: ${buf.trim()}`));
      }
    };
    stream.on('data', onData);
    stream.once('error', reject);
  });
}

/** One IMAP session, upgraded with STARTTLS, logged in, sitting in IDLE. */
async function idleSession(gw: GatewayProcess, user = BENCH_USER): Promise<TLSSocket> {
  const plain = netConnect(gw.ports.imap!, '127.0.0.1');
  await waitFor(plain, /^\* OK.*\r\n/);
  plain.write('a STARTTLS\r\n');
  await waitFor(plain, /^a OK.*\r\n/m);
  const tls = tlsConnect({ socket: plain, servername: 'localhost', ca: gw.certificatePem });
  await new Promise<void>((resolve, reject) => {
    tls.once('secureConnect', resolve);
    tls.once('error', reject);
  });
  tls.write(`b LOGIN "${user.address}" "${user.password}"\r\n`);
  await waitFor(tls, /^b OK.*\r\n/m);
  tls.write('c SELECT INBOX\r\n');
  await waitFor(tls, /^c OK.*\r\n/m);
  tls.write('d IDLE\r\n');
  await waitFor(tls, /^\+ .*\r\n/m);
  tls.on('error', () => undefined);
  return tls;
}

function idleCase(n: number): BenchCase {
  return {
    name: `imap idle memory per connection (N=${n})`,
    unit: 'KiB/conn',
    lowerIsBetter: true,
    rounds: { quick: 1, full: 3 },
    note: 'target <= 64 KiB per connection (server RSS growth / N; STARTTLS + LOGIN + SELECT + IDLE)',
    async postern() {
      const users = Math.ceil((n + 20) / 20);
      const gw = await startGatewayProcess([], users);
      const sockets: TLSSocket[] = [];
      let opened = 0;
      const next = () => idleSession(gw, benchUser(Math.floor(opened++ / 20)));
      try {
        // Warm up: the first sessions pay for code loading and TLS contexts.
        for (let i = 0; i < 20; i++) sockets.push(await next());
        await new Promise((r) => setTimeout(r, 500));
        const before = gw.rss();
        for (let i = 0; i < n; i += 50) {
          const batch = await Promise.all(Array.from({ length: Math.min(50, n - i) }, () => next()));
          sockets.push(...batch);
        }
        await new Promise((r) => setTimeout(r, 1000));
        return (gw.rss() - before) / n / 1024;
      } finally {
        for (const s of sockets) s.destroy();
        await gw.stop();
      }
    },
  };
}

/** A message of `size` bytes as a stream: headers, then 76-column lines. */
function bigMessage(size: number): Readable {
  const head = Buffer.from(
    `From: ${BENCH_USER.address}\r\nTo: ${BENCH_USER.address}\r\nSubject: large\r\n\r\n`,
  );
  const line = Buffer.from('x'.repeat(76) + '\r\n');
  let left = size - head.length;
  let first = true;
  return new Readable({
    read() {
      if (first) {
        first = false;
        this.push(head);
        return;
      }
      if (left <= 0) return void this.push(null);
      const lines = Math.max(1, Math.min(8192, Math.floor(left / line.length)));
      this.push(Buffer.concat(Array(lines).fill(line)));
      left -= lines * line.length;
    },
  });
}

/** One message of `size` bytes in over submission (STARTTLS) and back out over IMAP (STARTTLS). */
async function roundTrip(gw: GatewayProcess, size: number): Promise<void> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port: gw.ports.submission,
    secure: false,
    requireTLS: true,
    tls: { ca: gw.certificatePem, servername: 'localhost' },
    auth: { user: BENCH_USER.address, pass: BENCH_USER.password },
  });
  await transport.sendMail({
    envelope: { from: BENCH_USER.address, to: [BENCH_USER.address] },
    raw: bigMessage(size),
  });
  transport.close();
  const client = new ImapFlow({
    host: '127.0.0.1',
    port: gw.ports.imap!,
    secure: false,
    doSTARTTLS: true,
    tls: { ca: gw.certificatePem, servername: 'localhost' },
    auth: { user: BENCH_USER.address, pass: BENCH_USER.password },
    logger: false,
  });
  await client.connect();
  const lock = await client.getMailboxLock('INBOX');
  try {
    const { content } = await client.download('*', undefined, { uid: false });
    let got = 0;
    for await (const c of content ?? []) got += (c as Buffer).length;
    if (got < size) throw new Error(`read back ${got} of ${size} bytes`);
  } finally {
    lock.release();
  }
  await client.logout();
}

function largeMessageCase(): BenchCase {
  const size = 100 * 2 ** 20;
  return {
    name: 'large message RSS growth (100 MB in over SMTP, out over IMAP)',
    unit: 'MiB',
    lowerIsBetter: true,
    rounds: { quick: 1, full: 3 },
    note: 'target < 64 MiB of server RSS growth for a 100 MB message (fs store); baseline taken after a 1 MB message took the same path, so code loading and first-use buffers do not count',
    async postern() {
      const gw = await startGatewayProcess(['--max-message-size', String(size + 1024 * 1024)]);
      let peak = 0;
      let sampler: NodeJS.Timeout | undefined;
      try {
        await roundTrip(gw, 2 ** 20);
        await new Promise((r) => setTimeout(r, 500));
        const base = gw.rss();
        sampler = setInterval(() => (peak = Math.max(peak, gw.rss())), 25);
        await roundTrip(gw, size);
        peak = Math.max(peak, gw.rss());
        return (peak - base) / 2 ** 20;
      } finally {
        clearInterval(sampler);
        await gw.stop();
      }
    },
  };
}

export function memoryCases(quick: boolean): BenchCase[] {
  return [idleCase(1000), ...(quick ? [] : [idleCase(5000)]), largeMessageCase()];
}
