/**
 * Issue 19 item 5, deadlines: a client that sends one byte at a time without ever ending its
 * line resets any idle timer; a deadline for the whole command line (`limits.commandTimeoutMs`)
 * ends it, on every plaintext listener. A client that never logs in, however busy, is ended at
 * `limits.preAuthTimeoutMs` (IMAP, POP3, submission). In-process gateways.
 */
import assert from 'node:assert/strict';
import { RawClient, sleep } from './client.js';
import {
  baseOptions,
  checkServing,
  inProcessGateway,
  port,
  type GatewayUnderTest,
  type HostileOptions,
} from './gateway-under-test.js';
import { LISTENERS, PLAINTEXT_LISTENERS, readGreeting, type ListenerInfo } from './listeners.js';

const COMMAND_TIMEOUT_MS = 1500;
const PRE_AUTH_TIMEOUT_MS = 2500;
/** Bounds for the disconnect: the deadline plus a generous margin for a loaded machine. */
const MARGIN_MS = 5000;

/** Keep doing `step` every `everyMs` until the server closes or `giveUpMs` passes; true if it closed. */
async function until(c: RawClient, everyMs: number, giveUpMs: number, step: (i: number) => void) {
  const deadline = Date.now() + giveUpMs;
  for (let i = 0; !c.closed && Date.now() < deadline; i++) {
    step(i);
    await Promise.race([sleep(everyMs), c.closedAt]);
  }
  return c.closed;
}

/** A command that is valid before login on each protocol, to stay busy without authenticating. */
const BUSY: Record<ListenerInfo['protocol'], string> = {
  imap: 'n NOOP\r\n',
  pop3: 'CAPA\r\n',
  smtp: 'NOOP\r\n',
  nntp: 'DATE\r\n',
};

async function withGateway(options: HostileOptions, fn: (gut: GatewayUnderTest) => Promise<void>) {
  const gut = await inProcessGateway(options);
  try {
    await fn(gut);
    await checkServing(gut);
  } finally {
    await gut.close();
  }
}

describe('hostile slow clients: command-line and pre-authentication deadlines', function () {
  this.timeout(60_000);

  it('one byte every 200 ms without a newline is disconnected at limits.commandTimeoutMs on every plaintext listener', async () => {
    // The pre-auth deadline far away, so what ends the client is the command-line deadline.
    const options = baseOptions({
      limits: { commandTimeoutMs: COMMAND_TIMEOUT_MS, preAuthTimeoutMs: 120_000, idleTimeoutMs: 120_000 },
    });
    await withGateway(options, async (gut) => {
      const outcomes = await Promise.all(
        PLAINTEXT_LISTENERS.map(async (l) => {
          const c = await RawClient.connect({ port: port(gut, l.name) });
          try {
            await readGreeting(c, l.protocol);
            const started = Date.now();
            const closed = await until(c, 200, COMMAND_TIMEOUT_MS + MARGIN_MS, () => c.write('X'));
            return closed ? undefined : `${l.name}: still open after ${Date.now() - started} ms of trickle`;
          } finally {
            c.destroy();
          }
        }),
      );
      assert.deepEqual(outcomes.filter(Boolean), [], 'every trickling client is disconnected');
    });
  });

  it('a client that never logs in is disconnected at limits.preAuthTimeoutMs (IMAP, POP3, submission)', async () => {
    const options = baseOptions({
      limits: { preAuthTimeoutMs: PRE_AUTH_TIMEOUT_MS, commandTimeoutMs: 60_000, idleTimeoutMs: 120_000 },
    });
    const listeners = LISTENERS.filter((l) => ['imap', 'pop3', 'submission'].includes(l.name));
    await withGateway(options, async (gut) => {
      const outcomes = await Promise.all(
        listeners.map(async (l) => {
          const c = await RawClient.connect({ port: port(gut, l.name) });
          try {
            await readGreeting(c, l.protocol);
            if (l.protocol === 'smtp') await c.command('EHLO idler.test', /^250 /);
            const started = Date.now();
            // Busy, never idle: a complete valid command every 300 ms, and never a login.
            const closed = await until(c, 300, PRE_AUTH_TIMEOUT_MS + MARGIN_MS, () =>
              c.write(BUSY[l.protocol]),
            );
            return closed ? undefined : `${l.name}: still unauthenticated after ${Date.now() - started} ms`;
          } finally {
            c.destroy();
          }
        }),
      );
      assert.deepEqual(outcomes.filter(Boolean), [], 'every client that never logs in is disconnected');
    });
  });
});
