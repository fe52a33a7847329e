/** A raw IMAP test client: bytes out exactly as a test writes them, lines in. */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export class RawClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;

  private constructor(public socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  static async connect(port: number): Promise<RawClient> {
    const socket = netConnect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    for (const ev of ['end', 'close', 'error']) {
      socket.on(ev, () => {
        this.ended = true;
        this.wake();
      });
    }
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  async readLine(): Promise<string> {
    for (;;) {
      const i = this.buffer.indexOf('\r\n');
      if (i !== -1) {
        const line = this.buffer.subarray(0, i).toString('utf8');
        this.buffer = this.buffer.subarray(i + 2);
        return line;
      }
      if (this.ended) throw new Error('connection closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  async readBytes(n: number): Promise<Buffer> {
    while (this.buffer.length < n) {
      if (this.ended) throw new Error('connection closed');
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
    const out = this.buffer.subarray(0, n);
    this.buffer = this.buffer.subarray(n);
    return out;
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  /** Send a tagged command; collect lines (literals inlined) up to the tagged reply. */
  async command(tag: string, text: string): Promise<string[]> {
    this.send(`${tag} ${text}\r\n`);
    return this.until(tag);
  }

  async until(tag: string): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      let line = await this.readLine();
      let m: RegExpExecArray | null;
      while ((m = /\{(\d+)\}$/.exec(line))) {
        const lit = await this.readBytes(Number(m[1]));
        line = line + '\r\n' + lit.toString('utf8') + (await this.readLine());
      }
      lines.push(line);
      if (line.startsWith(`${tag} `)) return lines;
    }
  }

  async startTls(ca: string): Promise<void> {
    this.socket.removeAllListeners('data');
    const tls = tlsConnect({ socket: this.socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      tls.once('secureConnect', resolve);
      tls.once('error', reject);
    });
    this.buffer = Buffer.alloc(0);
    this.ended = false;
    this.socket = tls;
    this.attach(tls);
  }

  /** Resolves true once the server closed the connection. */
  async closed(): Promise<boolean> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return true;
  }

  close(): void {
    this.socket.destroy();
  }
}
