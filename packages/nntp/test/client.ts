/**
 * A small raw NNTP client for the tests: lines out exactly as a test writes them, lines and
 * dot-terminated blocks in, STARTTLS through node:tls over the same socket.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export class NntpTestClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;

  private constructor(public socket: Socket | TLSSocket) {
    this.attach(socket);
  }

  static async connect(port: number): Promise<NntpTestClient> {
    const socket = netConnect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new NntpTestClient(socket);
  }

  /** nntps: TLS from the first octet. */
  static async connectTls(port: number, ca: string): Promise<NntpTestClient> {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return new NntpTestClient(socket);
  }

  private attach(socket: Socket): void {
    const wake = () => {
      for (const w of this.waiters.splice(0)) w();
    };
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      wake();
    });
    for (const ev of ['end', 'close', 'error']) {
      socket.on(ev, () => {
        this.ended = true;
        wake();
      });
    }
  }

  private async more(): Promise<void> {
    if (this.ended) throw new Error('connection closed by server');
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  async readLine(): Promise<string> {
    for (;;) {
      const i = this.buffer.indexOf('\r\n');
      if (i !== -1) {
        const line = this.buffer.subarray(0, i).toString('utf8');
        this.buffer = this.buffer.subarray(i + 2);
        return line;
      }
      await this.more();
    }
  }

  /** The lines of a multi-line block, unstuffed, terminator excluded. */
  async readBlock(): Promise<string[]> {
    const lines: string[] = [];
    for (;;) {
      const line = await this.readLine();
      if (line === '.') return lines;
      lines.push(line.startsWith('..') ? line.slice(1) : line);
    }
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  async command(line: string): Promise<string> {
    this.send(`${line}\r\n`);
    return this.readLine();
  }

  /** A command with a multi-line answer: status line and block (block empty unless 1xx/2xx multi). */
  async commandBlock(line: string): Promise<{ status: string; lines: string[] }> {
    const status = await this.command(line);
    const code = Number(status.slice(0, 3));
    const multi = [100, 101, 211, 215, 220, 221, 222, 224, 225, 230, 231].includes(code);
    const isListgroup = /^LISTGROUP/i.test(line);
    if (!multi || (code === 211 && !isListgroup)) return { status, lines: [] };
    return { status, lines: await this.readBlock() };
  }

  /** STARTTLS handshake over the same socket (after the 382). */
  async startTls(ca: string): Promise<void> {
    for (const ev of ['data', 'end', 'close', 'error']) this.socket.removeAllListeners(ev);
    const secure = tlsConnect({ socket: this.socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  /** Everything the server sends until it closes. */
  async rest(): Promise<string> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
    const s = this.buffer.toString('utf8');
    this.buffer = Buffer.alloc(0);
    return s;
  }

  get isEnded(): boolean {
    return this.ended;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
