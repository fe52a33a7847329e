/**
 * The SMTP bench's load generator in a process of its own (cases/smtp.ts): 8 pooled nodemailer
 * STARTTLS clients, as remote senders would be, so a server's throughput is not charged with
 * its clients' CPU on the same event loop. Asked over IPC with `{ port, ca, count }`, it sends
 * `count` messages and answers `{ rate, cpuPerMessage }`; it exits when its parent goes.
 */
import nodemailer from 'nodemailer';
import { IpcChild, serveIpc } from './ipc-child.js';

export const SMTP_BENCH_TO = 'bench@example.test';
const BODY = 'x'.repeat(76) + '\r\n';

/** 4.6 KB: headers and 60 lines of 78 octets. */
export const SMTP_BENCH_MESSAGE = `From: a@remote.test\r\nTo: ${SMTP_BENCH_TO}\r\nSubject: bench\r\n\r\n${BODY.repeat(60)}`;

interface BlastAsk {
  port: number;
  ca: string;
  count: number;
}

export interface BlastResult {
  /** Messages per second, first connection to last reply. */
  rate: number;
  /** Client process CPU (user + system) per message, µs. */
  cpuPerMessage: number;
}

/** 8 pooled STARTTLS clients send `count` messages to 127.0.0.1:`port`. */
export async function blast(port: number, ca: string, count: number): Promise<BlastResult> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    pool: true,
    maxConnections: 8,
    maxMessages: Infinity,
    tls: { ca, servername: 'localhost' },
  } as never);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: count }, () =>
      transport.sendMail({
        envelope: { from: 'a@remote.test', to: [SMTP_BENCH_TO] },
        raw: SMTP_BENCH_MESSAGE,
      }),
    ),
  );
  const rate = (count / (performance.now() - t0)) * 1000;
  const cpu = process.cpuUsage(cpu0);
  transport.close();
  return { rate, cpuPerMessage: (cpu.user + cpu.system) / count };
}

/** The child, seen from the bench process. */
export class SmtpClientProcess {
  private constructor(private readonly child: IpcChild<BlastAsk, BlastResult>) {}

  static start(): SmtpClientProcess {
    return new SmtpClientProcess(IpcChild.start(import.meta.url, 'SMTP bench client'));
  }

  blast(port: number, ca: string, count: number): Promise<BlastResult> {
    return this.child.ask({ port, ca, count });
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}

serveIpc((m: BlastAsk) => blast(m.port, m.ca, m.count));
