/**
 * pino: JSON lines, pretty on a TTY. Secrets never reach here: sessions log facts, not payloads,
 * and every string field and message goes through `redactFields` (a URL's password, such as
 * the one in `--store redis://user:password@host`, is written as `***`).
 */
import { pino } from 'pino';
import pretty from 'pino-pretty';
import type { Logger } from '@postern/core';
import { redactFields, redactUrlCredentials } from './redact.js';

export function createLogger(level: string, stream: NodeJS.WritableStream = process.stdout): Logger {
  if (level === 'silent') return pino({ level: 'silent' }) as unknown as Logger;
  const tty = (stream as NodeJS.WriteStream).isTTY === true;
  const destination = tty
    ? pretty({ sync: true, destination: stream as never, ignore: 'pid,hostname' })
    : stream;
  return pino(
    {
      level,
      base: undefined,
      formatters: { log: (fields) => redactFields(fields) },
      hooks: {
        logMethod(args, method) {
          // The message (and any printf-style arguments after it).
          const redacted = args.map((a) => (typeof a === 'string' ? redactUrlCredentials(a) : a));
          return method.apply(this, redacted as Parameters<typeof method>);
        },
      },
    },
    destination as never,
  ) as unknown as Logger;
}
