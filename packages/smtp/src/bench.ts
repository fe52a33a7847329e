/**
 * A load driver for the benchmark: N messages over one plaintext connection to any SMTP
 * server (Postern, or smtp-server as the peer), each transaction pipelined (RFC 2920:
 * MAIL, RCPT… and DATA in one write, then the dot-stuffed message). It measures ingest, not
 * TLS; the TLS cases live in core's benchmarks.
 */
import { connect, type Socket } from 'node:net';
import { dotEncode } from '@postern/core';

export interface SmtpIngestOptions {
  host?: string;
  port: number;
  messages: number;
  /** Octets in each message body (headers come on top). Default 10 kB. */
  messageSize?: number;
  from?: string;
  to: string[];
}

export interface SmtpIngestResult {
  messages: number;
  octets: number;
  ms: number;
}

/** Reads whole SMTP replies (RFC 5321 §4.2: the last line has a space after the code). */
class ReplyReader {
  private buffer = '';
  private wake: (() => void) | undefined;
  private closed = false;

  constructor(socket: Socket) {
    socket.on('data', (d: Buffer) => {
      this.buffer += d.toString('latin1');
      this.wake?.();
    });
    socket.on('close', () => {
      this.closed = true;
      this.wake?.();
    });
  }

  async code(): Promise<number> {
    for (;;) {
      const m = /^(?:\d{3}-[^\n]*\n)*(\d{3})(?: [^\n]*)?\r?\n/.exec(this.buffer);
      if (m) {
        this.buffer = this.buffer.slice(m[0].length);
        return Number(m[1]);
      }
      if (this.closed) throw new Error('connection closed while waiting for a reply');
      await new Promise<void>((r) => (this.wake = r));
      this.wake = undefined;
    }
  }
}

async function expect(reader: ReplyReader, want: number, what: string): Promise<void> {
  const code = await reader.code();
  if (code !== want) throw new Error(`${what}: expected ${want}, got ${code}`);
}

export async function measureSmtpIngest(o: SmtpIngestOptions): Promise<SmtpIngestResult> {
  const size = o.messageSize ?? 10_000;
  const from = o.from ?? 'bench@bench.invalid';
  const line = 'x'.repeat(74) + '\r\n';
  const body = line.repeat(Math.max(1, Math.ceil(size / line.length)));
  const message = dotEncode(
    Buffer.from(`From: <${from}>\r\nTo: <${o.to[0]}>\r\nSubject: bench\r\n\r\n${body}`, 'latin1'),
  );
  const socket = connect({ host: o.host ?? '127.0.0.1', port: o.port });
  socket.on('error', () => undefined);
  const reader = new ReplyReader(socket);
  const t0 = performance.now();
  try {
    await expect(reader, 220, 'greeting');
    socket.write('EHLO bench.invalid\r\n');
    await expect(reader, 250, 'EHLO');
    for (let i = 0; i < o.messages; i++) {
      socket.write(`MAIL FROM:<${from}>\r\n${o.to.map((t) => `RCPT TO:<${t}>\r\n`).join('')}DATA\r\n`);
      await expect(reader, 250, 'MAIL');
      for (const _ of o.to) await expect(reader, 250, 'RCPT');
      await expect(reader, 354, 'DATA');
      socket.write(message);
      await expect(reader, 250, 'end of data');
    }
    socket.write('QUIT\r\n');
    await expect(reader, 221, 'QUIT');
  } finally {
    socket.destroy();
  }
  return { messages: o.messages, octets: o.messages * message.length, ms: performance.now() - t0 };
}
