/**
 * pino: JSON lines, pretty on a TTY. Secrets never reach here: sessions log facts, not payloads.
 */
import { pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '@postern/core';

export function createLogger(level: string, stream: NodeJS.WritableStream = process.stdout): Logger {
  if (level === 'silent') return pino({ level: 'silent' }) as unknown as Logger;
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  const destination = tty
    ? pretty({ sync: true, destination: stream as never, ignore: 'pid,hostname' })
    : stream;
  return pino({ level, base: undefined }, destination as never) as unknown as Logger;
}
