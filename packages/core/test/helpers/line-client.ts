/**
 * A raw line-reading TCP client for server tests: connect (optionally from another loopback
 * address), read lines as they come, and learn how the connection ended.
 */
import * as net from 'node:net';

export interface LineClient {
  readonly socket: net.Socket;
  /** The next line (without CRLF); rejects if the connection ends first. */
  line(): Promise<string>;
  write(data: string | Buffer): void;
  /** Resolves with the lines received, once the server closed (FIN or reset). */
  closed(): Promise<string[]>;
  destroy(): void;
}

export async function connectLines(
  port: number,
  options: { localAddress?: string; host?: string } = {},
): Promise<LineClient> {
  const socket = net.connect({ host: options.host ?? '127.0.0.1', port, localAddress: options.localAddress });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.on('error', () => undefined);
  let buffered = '';
  const lines: string[] = [];
  const all: string[] = [];
  let ended = false;
  let wake: (() => void) | undefined;
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    buffered += chunk;
    for (let i = buffered.indexOf('\n'); i !== -1; i = buffered.indexOf('\n')) {
      const l = buffered.slice(0, i).replace(/\r$/, '');
      buffered = buffered.slice(i + 1);
      lines.push(l);
      all.push(l);
    }
    wake?.();
  });
  const onEnd = () => {
    ended = true;
    wake?.();
  };
  socket.once('end', onEnd);
  socket.once('close', onEnd);
  const closed = new Promise<string[]>((resolve) => socket.once('close', () => resolve(all)));
  return {
    socket,
    async line() {
      for (;;) {
        const next = lines.shift();
        if (next !== undefined) return next;
        if (ended) throw new Error('connection closed before a line');
        await new Promise<void>((resolve) => (wake = resolve));
      }
    },
    write(data) {
      socket.write(data);
    },
    closed() {
      if (ended) socket.destroy();
      else socket.once('end', () => socket.destroy());
      return closed;
    },
    destroy() {
      socket.destroy();
    },
  };
}

/** A logger that keeps warn lines, for checking what a flood logs. */
export function warnCollector(): {
  logger: import('../../src/logging.js').Logger;
  warnings: Array<Record<string, unknown> & { msg?: string }>;
} {
  const warnings: Array<Record<string, unknown> & { msg?: string }> = [];
  const noop = () => undefined;
  const logger = {
    debug: noop,
    info: noop,
    error: noop,
    warn: (obj: object | string, msg?: string) => {
      warnings.push(typeof obj === 'string' ? { msg: obj } : { ...(obj as Record<string, unknown>), msg });
    },
    child: () => logger,
  };
  return { logger, warnings };
}
