/**
 * A deliberately small POP3 client for the tests: raw lines in, raw lines out, STLS through
 * node:tls, and a way to send bytes exactly as a test wants them on the wire.
 */
import { connect as netConnect, type Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';

export class TestClient {
  private buffer = Buffer.alloc(0);
  private waiters: Array<() => void> = [];
  private ended = false;
  socket: Socket | TLSSocket;

  private constructor(socket: Socket | TLSSocket) {
    this.socket = socket;
    this.attach(socket);
  }

  static async connect(port: number): Promise<TestClient> {
    const socket = netConnect({ host: '127.0.0.1', port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new TestClient(socket);
  }

  /** Implicit TLS (pop3s). */
  static async connectTls(port: number, ca: string): Promise<TestClient> {
    const socket = tlsConnect({ host: '127.0.0.1', port, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
    return new TestClient(socket);
  }

  private attach(socket: Socket): void {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('end', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
    socket.on('error', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w();
  }

  private async more(): Promise<void> {
    if (this.ended) throw new Error('connection closed');
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** One line, CRLF stripped. Throws when the server closed first. */
  async readLine(): Promise<string> {
    for (;;) {
      const i = this.buffer.indexOf('\r\n');
      if (i !== -1) {
        const line = this.buffer.subarray(0, i).toString('latin1');
        this.buffer = this.buffer.subarray(i + 2);
        return line;
      }
      await this.more();
    }
  }

  /** A dot-terminated block as raw (still stuffed) bytes, terminator excluded. */
  async readBlockRaw(): Promise<Buffer> {
    for (;;) {
      const end = this.buffer.indexOf('\r\n.\r\n');
      if (this.buffer.subarray(0, 3).toString() === '.\r\n') {
        this.buffer = this.buffer.subarray(3);
        return Buffer.alloc(0);
      }
      if (end !== -1) {
        const block = this.buffer.subarray(0, end + 2);
        this.buffer = this.buffer.subarray(end + 5);
        return block;
      }
      await this.more();
    }
  }

  /** A dot-terminated block, unstuffed (RFC 1939 §3). */
  async readBlock(): Promise<Buffer> {
    const raw = await this.readBlockRaw();
    const lines = raw.toString('latin1').split('\r\n');
    return Buffer.from(lines.map((l) => (l.startsWith('.') ? l.slice(1) : l)).join('\r\n'), 'latin1');
  }

  /** Block lines as strings. */
  async readLines(): Promise<string[]> {
    const block = (await this.readBlock()).toString('latin1');
    return block === '' ? [] : block.replace(/\r\n$/, '').split('\r\n');
  }

  send(data: string | Buffer): void {
    this.socket.write(data);
  }

  async command(line: string): Promise<string> {
    this.send(`${line}\r\n`);
    return this.readLine();
  }

  /** STLS and the handshake over the same socket; anything buffered is a failure of the test. */
  async startTls(ca: string): Promise<void> {
    this.socket.removeAllListeners('data');
    this.socket.removeAllListeners('end');
    this.socket.removeAllListeners('close');
    this.socket.removeAllListeners('error');
    const secure = tlsConnect({ socket: this.socket, ca, servername: 'localhost' });
    await new Promise<void>((resolve, reject) => {
      secure.once('secureConnect', resolve);
      secure.once('error', reject);
    });
    this.socket = secure;
    this.attach(secure);
  }

  /** True once the server closed the connection (reads to the end). */
  async closedByServer(): Promise<boolean> {
    while (!this.ended) await new Promise<void>((resolve) => this.waiters.push(resolve));
    return true;
  }

  /** Everything left until the server closes. */
  async rest(): Promise<string> {
    await this.closedByServer();
    const s = this.buffer.toString('latin1');
    this.buffer = Buffer.alloc(0);
    return s;
  }

  get pending(): number {
    return this.buffer.length;
  }

  destroy(): void {
    this.socket.destroy();
  }
}
