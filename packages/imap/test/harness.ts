/**
 * An ImapServer on 127.0.0.1 port 0 (a STARTTLS listener and an imaps listener) over the fs
 * store in a temporary directory, with a self-signed 'localhost' certificate.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateStore, generateSelfSigned, NativeTlsEngine } from '@postern/core';
import { openFsStore, type EnvelopeAddress, type MessageIndex, type Store } from '@postern/store';
import assert from 'node:assert/strict';
import { ImapServer, type ImapServerOptions } from '../src/index.js';
import { RawClient } from './client.js';

export const ALICE = 'alice@example.org';
export const BOB = 'bob@example.org';
export const ALICE_PW = 'alice correct horse';
export const BOB_PW = 'b0b-Secret!';

let certPromise: ReturnType<typeof generateSelfSigned> | undefined;
export function testCertificate(): ReturnType<typeof generateSelfSigned> {
  certPromise ??= generateSelfSigned({ hostname: 'localhost' });
  return certPromise;
}

export interface Harness {
  store: Store;
  server: ImapServer;
  port: number;
  tlsPort: number;
  ca: string;
  close(): Promise<void>;
}

function listen(server: Server): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0 }, () => {
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : 0);
    });
  });
}

export async function startHarness(
  options: Partial<Omit<ImapServerOptions, 'store' | 'tls' | 'hostname'>> = {},
): Promise<Harness> {
  const cert = await testCertificate();
  const dir = await mkdtemp(join(tmpdir(), 'postern-imap-'));
  const store = await openFsStore(dir, { domains: ['example.org'] });
  await store.accounts.addUser(ALICE, ALICE_PW);
  await store.accounts.addUser(BOB, BOB_PW);
  shimIndexer(store);
  const server = new ImapServer({
    hostname: 'imap.example.org',
    tls: { engine: new NativeTlsEngine(), server: { certificates: new CertificateStore([cert]) } },
    ...options,
    store,
  });
  const handled = new Set<Promise<void>>();
  const sockets = new Set<Socket>();
  const accept = (implicitTls: boolean) => (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    handled.add(server.handleConnection(socket, { implicitTls }));
  };
  const plain = createServer(accept(false));
  const secure = createServer(accept(true));
  const port = await listen(plain);
  const tlsPort = await listen(secure);
  return {
    store,
    server,
    port,
    tlsPort,
    ca: cert.certificateChainPem,
    async close() {
      plain.close();
      secure.close();
      await server.shutdown(1000);
      for (const s of sockets) s.destroy();
      await Promise.all(handled);
      await store.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export function message(subject: string, body = 'Hello.\r\n', from = 'bob@example.org'): string {
  return `From: ${from}\r\nTo: alice@example.org\r\nSubject: ${subject}\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\nMessage-ID: <${subject.replace(/\W/g, '')}@example.org>\r\n\r\n${body}`;
}

function address(value: string | undefined): EnvelopeAddress[] | null {
  if (!value) return null;
  const m = /^(?:(.*?)\s*<)?([^<>@\s]+)@([^<>\s]+?)>?$/.exec(value.trim());
  if (!m) return null;
  return [{ name: m[1] ? m[1].replace(/^"|"$/g, '') : null, adl: null, mailbox: m[2], host: m[3] }];
}

/**
 * INTERIM: until the store's indexer lands, the fs backend indexes every message as an empty
 * text/plain stub. For a stub, fill in a single-part index (header block, headers, envelope,
 * text) so FETCH BODY[HEADER...] and SEARCH SUBJECT are exercised end to end. Once the real
 * indexer is in, `headers` is never empty for these messages and this does nothing.
 */
function shimIndexer(store: Store): void {
  const mail = store.mail;
  const original = mail.getIndex.bind(mail);
  mail.getIndex = async (user, box, uid): Promise<MessageIndex | undefined> => {
    const index = await original(user, box, uid);
    if (!index || index.headers.length > 0 || index.root.bodyStart !== 0) return index;
    const chunks: Buffer[] = [];
    for await (const c of await mail.openMessage(user, box, uid)) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('latin1');
    const split = raw.indexOf('\r\n\r\n');
    const bodyStart = split === -1 ? raw.length : split + 4;
    const headers = raw
      .slice(0, bodyStart)
      .replace(/\r\n[ \t]/g, ' ')
      .split('\r\n')
      .filter((l) => l.includes(':'))
      .map((l): [string, string] => [
        l.slice(0, l.indexOf(':')),
        Buffer.from(l.slice(l.indexOf(':') + 1).trim(), 'latin1').toString('utf8'),
      ]);
    const get = (n: string) => headers.find(([k]) => k.toLowerCase() === n)?.[1];
    const body = raw.slice(bodyStart);
    return {
      ...index,
      headers,
      text: body,
      envelope: {
        ...index.envelope,
        date: get('date') ?? null,
        subject: get('subject') ?? null,
        from: address(get('from')),
        to: address(get('to')),
        messageId: get('message-id') ?? null,
      },
      root: {
        ...index.root,
        encoding: (get('content-transfer-encoding') ?? '7BIT').toUpperCase(),
        bodyStart,
        bodyEnd: raw.length,
        lines: body.split('\r\n').length - 1,
      },
    };
  };
}

/** A plaintext connection past the greeting, logged in (the harness runs with allowInsecureAuth). */
export async function loginPlain(port: number, user = ALICE, password = ALICE_PW): Promise<RawClient> {
  const c = await RawClient.connect(port);
  await c.readLine();
  const reply = await c.command('l', `LOGIN ${user} "${password}"`);
  assert.match(reply[reply.length - 1]!, /^l OK/);
  return c;
}
