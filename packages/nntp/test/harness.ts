/**
 * Test rig: an NntpServer behind a net.Server on 127.0.0.1 port 0, a self-signed certificate
 * for "localhost", and a store with one user and a few groups.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CertificateStore, generateSelfSigned, NativeTlsEngine, type CertifiedKey } from '@postern/core';
import { openFsStore, type Store } from '@postern/store';
import { NntpServer, type NntpServerOptions } from '../src/index.js';

export const USER = 'reader@example.test';
export const PASSWORD = 'correct horse battery';

let cert: Promise<CertifiedKey> | undefined;

export function testCertificate(): Promise<CertifiedKey> {
  cert ??= generateSelfSigned({ hostname: 'localhost' });
  return cert;
}

const opened: Array<{ store: Store; dir: string }> = [];

/**
 * A fresh store (the fs backend in a temporary directory) with USER and the groups local.test
 * (bound to test@example.test), local.other and local.readonly (posting "n").
 */
export async function makeStore(): Promise<Store> {
  const dir = mkdtempSync(join(tmpdir(), 'postern-nntp-'));
  const store = await openFsStore(dir, { domains: ['example.test'] });
  opened.push({ store, dir });
  await store.accounts.addUser(USER, PASSWORD);
  await store.news.createGroup('local.test', { description: 'Testing', mailAddress: 'test@example.test' });
  await store.news.createGroup('local.other', { description: 'Other\ttabbed' });
  await store.news.createGroup('local.readonly', { posting: 'n' });
  return store;
}

/** Close a store makeStore opened (every one when none is named) and remove its directory. */
export async function disposeStores(only?: Store): Promise<void> {
  for (const entry of [...opened]) {
    if (only && entry.store !== only) continue;
    opened.splice(opened.indexOf(entry), 1);
    await entry.store.close().catch(() => undefined);
    rmSync(entry.dir, { recursive: true, force: true });
  }
}

export interface Rig {
  server: NntpServer;
  store: Store;
  port: number;
  /** PEM of the server certificate, the trust anchor for clients. */
  ca: string;
  close(): Promise<void>;
}

export async function startRig(
  options: Partial<NntpServerOptions> & { implicitTls?: boolean } = {},
): Promise<Rig> {
  const key = await testCertificate();
  const store = options.store ?? (await makeStore());
  const { implicitTls = false, ...rest } = options;
  const server = new NntpServer({
    hostname: 'news.example.test',
    tls: { engine: new NativeTlsEngine(), server: { certificates: new CertificateStore([key]) } },
    ...rest,
    store,
  });
  const listener: Server = createServer((socket) => void server.handleConnection(socket, { implicitTls }));
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
  const address = listener.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    server,
    store,
    port: address.port,
    ca: key.certificateChainPem,
    async close() {
      await server.shutdown(1000);
      await new Promise<void>((resolve) => listener.close(() => resolve()));
      if (!options.store) await disposeStores(store);
    },
  };
}

export function articleText(fields: Record<string, string>, body = 'Hello, world.\r\n'): string {
  const head = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  return `${head}\r\n${body}`;
}

/** Everything in the outbound queue, with the message bytes. */
export async function queuedMail(store: Store): Promise<Array<{ to: string[]; from: string; data: Buffer }>> {
  const out: Array<{ to: string[]; from: string; data: Buffer }> = [];
  for (const item of await store.queue.list()) {
    const chunks: Buffer[] = [];
    for await (const c of await store.queue.openMessage(item.id)) chunks.push(Buffer.from(c as Uint8Array));
    out.push({ to: item.envelope.to, from: item.envelope.from, data: Buffer.concat(chunks) });
  }
  return out;
}
