/**
 * A raw line client for the tests of every package (connection limits, hostile clients): connect (optionally from another loopback
 * address), read lines, and see every line once the server has closed the connection.
 */
import assert from 'node:assert/strict';
import * as net from 'node:net';

export interface RawLineClient {
  socket: net.Socket;
  line(): Promise<string>;
  /** Every line received, once the server has closed the connection. */
  closed(): Promise<string[]>;
}

export async function connectRawLines(port: number, localAddress?: string): Promise<RawLineClient> {
  const socket = net.connect({ host: '127.0.0.1', port, localAddress });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  socket.setEncoding('latin1');
  const queue: string[] = [];
  const all: string[] = [];
  let rest = '';
  let ended = false;
  let wake = () => {};
  socket.on('data', (chunk: string) => {
    rest += chunk;
    for (let i = rest.indexOf('\n'); i !== -1; i = rest.indexOf('\n')) {
      queue.push(rest.slice(0, i).replace(/\r$/, ''));
      all.push(rest.slice(0, i).replace(/\r$/, ''));
      rest = rest.slice(i + 1);
    }
    wake();
  });
  const gone = new Promise<string[]>((resolve) =>
    socket.once('close', () => {
      ended = true;
      wake();
      resolve(all);
    }),
  );
  socket.once('end', () => socket.end());
  return {
    socket,
    async line() {
      for (;;) {
        const l = queue.shift();
        if (l !== undefined) return l;
        if (ended) throw new Error('closed before a line');
        await new Promise<void>((r) => (wake = r));
      }
    },
    closed: () => gone,
  };
}

export async function waitUntil(what: string, test: () => boolean): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (test()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail(`timed out waiting: ${what}`);
}
