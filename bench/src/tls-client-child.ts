/**
 * The TLS benches' reading client. `receiveAll` runs in the bench process for the handshake
 * and throughput cases (cases/tls.ts), and in a process of its own for the server-CPU cases
 * (cases/tls-server-cpu.ts), so that the bench process's CPU is the server's alone: asked over
 * IPC with `{ port, ca, tls }`, it reads until the server ends — through node:tls when `tls` is
 * set, else as raw TCP bytes (see decryptLikeATlsReader) — and answers `{ bytes }`; it exits
 * when its parent goes.
 */
import { createDecipheriv } from 'node:crypto';
import { connect as netConnect } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { IpcChild, serveIpc } from './ipc-child.js';

export interface ReceiveAsk {
  port: number;
  ca: string;
  tls: boolean;
}

const RAW_KEY = Buffer.alloc(16);
const RAW_NONCE = Buffer.alloc(12);

/**
 * A raw reader that only counted bytes would drain the socket faster than a TLS client, and
 * how fast the client drains changes the server's cost per record; so it spends on each read
 * the AES-128-GCM work a TLS reader would (the bytes are not a real record stream: nothing to
 * authenticate, the output is dropped).
 */
function decryptLikeATlsReader(d: Buffer): void {
  createDecipheriv('aes-128-gcm', RAW_KEY, RAW_NONCE).update(d);
}

/** Reads from 127.0.0.1:`port` until the server ends; resolves with the bytes received. */
export function receiveAll({ port, ca, tls }: ReceiveAsk): Promise<number> {
  return new Promise((resolve, reject) => {
    let bytes = 0;
    const s = tls
      ? tlsConnect({ host: '127.0.0.1', port, servername: 'localhost', ca })
      : netConnect(port, '127.0.0.1');
    s.on('data', (d: Buffer) => {
      bytes += d.length;
      if (!tls) decryptLikeATlsReader(d);
    });
    s.on('end', () => {
      s.end();
      resolve(bytes);
    });
    s.on('error', reject);
  });
}

/** The child, seen from the bench process. */
export class TlsClientProcess {
  private constructor(private readonly child: IpcChild<ReceiveAsk, { bytes: number }>) {}

  static start(): TlsClientProcess {
    return new TlsClientProcess(IpcChild.start(import.meta.url, 'TLS bench client'));
  }

  /** Bytes received from 127.0.0.1:`port` before the server ended the connection. */
  async receive(ask: ReceiveAsk): Promise<number> {
    return (await this.child.ask(ask)).bytes;
  }

  stop(): Promise<void> {
    return this.child.stop();
  }
}

serveIpc(async (m: ReceiveAsk) => ({ bytes: await receiveAll(m) }));
