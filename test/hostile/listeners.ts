/**
 * The gateway's nine listeners as a hostile client sees them: what a greeting looks like and how
 * to ask for STARTTLS, and the check every case ends with: a fresh client, from another address,
 * gets its greeting (after a TLS handshake on implicit-TLS listeners) within a second.
 */
import { OTHER_CLIENT, RawClient, TimeoutError } from './client.js';

export type Protocol = 'smtp' | 'imap' | 'pop3' | 'nntp';
export type ListenerName =
  'smtp' | 'submission' | 'smtps' | 'imap' | 'imaps' | 'pop3' | 'pop3s' | 'nntp' | 'nntps';

export interface ListenerInfo {
  name: ListenerName;
  protocol: Protocol;
  implicitTls: boolean;
}

export const LISTENERS: readonly ListenerInfo[] = [
  { name: 'smtp', protocol: 'smtp', implicitTls: false },
  { name: 'submission', protocol: 'smtp', implicitTls: false },
  { name: 'smtps', protocol: 'smtp', implicitTls: true },
  { name: 'imap', protocol: 'imap', implicitTls: false },
  { name: 'imaps', protocol: 'imap', implicitTls: true },
  { name: 'pop3', protocol: 'pop3', implicitTls: false },
  { name: 'pop3s', protocol: 'pop3', implicitTls: true },
  { name: 'nntp', protocol: 'nntp', implicitTls: false },
  { name: 'nntps', protocol: 'nntp', implicitTls: true },
];

export const PLAINTEXT_LISTENERS = LISTENERS.filter((l) => !l.implicitTls);

/** The last line of a greeting (RFC 5321 §4.2, RFC 3501 §7.1.1, RFC 1939 §4, RFC 3977 §5.1). */
export const GREETING: Record<Protocol, RegExp> = {
  smtp: /^220 /,
  imap: /^\* OK/,
  pop3: /^\+OK/,
  nntp: /^20[01] /,
};

/** Read the greeting; throws if what came is not one. */
export async function readGreeting(client: RawClient, protocol: Protocol, timeoutMs = 5000): Promise<void> {
  const lines = await client.readUntil(/^(\d{3} |\* |\+OK|-ERR)/, timeoutMs);
  if (!lines) throw new Error(`${protocol}: closed before its greeting`);
  const last = lines[lines.length - 1]!;
  if (!GREETING[protocol].test(last)) throw new Error(`${protocol}: not a greeting: ${last}`);
}

/**
 * On a plaintext connection whose greeting was read: ask for TLS and read the go-ahead
 * (RFC 3207 §4, RFC 3501 §6.2.1, RFC 2595 §4, RFC 4642 §2.2).
 */
export async function askStartTls(client: RawClient, protocol: Protocol): Promise<void> {
  const expect = (lines: string[], ok: RegExp) => {
    const last = lines[lines.length - 1]!;
    if (!ok.test(last)) throw new Error(`${protocol}: STARTTLS refused: ${last}`);
  };
  switch (protocol) {
    case 'smtp':
      await client.command('EHLO hostile.test', /^250 /);
      return expect(await client.command('STARTTLS', /^\d{3} /), /^220 /);
    case 'imap':
      return expect(await client.command('s STARTTLS', /^s /), /^s OK/);
    case 'pop3':
      return expect(await client.command('STLS', /^(\+OK|-ERR)/), /^\+OK/);
    case 'nntp':
      return expect(await client.command('STARTTLS', /^\d{3} /), /^382 /);
  }
}

/** The bar: another client is served within a second. */
export const SERVED_WITHIN_MS = 1000;

/**
 * Whether a fresh client from `localAddress` gets its greeting within `withinMs`; the reason when not.
 * One retry: a single scheduling hiccup on a loaded machine is not a dead server, while a crashed
 * process or a blocked event loop fails both attempts.
 */
export async function servedWithin(
  port: number,
  listener: ListenerInfo,
  options: { localAddress?: string; withinMs?: number } = {},
): Promise<string | undefined> {
  const withinMs = options.withinMs ?? SERVED_WITHIN_MS;
  let reason = '';
  for (let attempt = 0; attempt < 2; attempt++) {
    const started = Date.now();
    let client: RawClient | undefined;
    try {
      client = await RawClient.connect({
        port,
        localAddress: options.localAddress ?? OTHER_CLIENT,
        tls: listener.implicitTls,
        timeoutMs: withinMs,
      });
      await readGreeting(client, listener.protocol, Math.max(1, withinMs - (Date.now() - started)));
      return undefined;
    } catch (err) {
      reason = `${listener.name}: ${err instanceof TimeoutError ? 'not served' : 'refused'} (${(err as Error).message})`;
    } finally {
      client?.destroy();
    }
  }
  return reason;
}
