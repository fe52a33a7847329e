/**
 * SMTP ingest (issue 5): messages/s from 8 concurrent STARTTLS clients (nodemailer, pooled),
 * Postern's MX on the memory store against smtp-server discarding the data in the same run.
 * The clients run in a process of their own (smtp-client-child.ts), as remote senders would;
 * a second case keeps them in the bench process, sharing one event loop with the server, where
 * every microsecond a client spends is a microsecond the server does not get.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { CertificateStore, TsTlsEngine, generateSelfSigned, type CertifiedKey } from '@postern/core';
import { SmtpServer } from '@postern/smtp';
import { createMemoryStore } from '@postern/store';
import type { BenchCase } from '../harness.js';
import { SMTP_BENCH_TO, SmtpClientProcess, blast } from '../smtp-client-child.js';

interface Servers {
  key: CertifiedKey;
  ours: Server;
  peer: SMTPServer;
  ourPort: number;
  peerPort: number;
}

async function startServers(): Promise<Servers> {
  const key = await generateSelfSigned({ hostname: 'localhost' });
  const store = createMemoryStore({ domains: ['example.test'] });
  await store.accounts.addUser(SMTP_BENCH_TO, 'pw');
  const handler = new SmtpServer({
    hostname: 'localhost',
    tls: { engine: new TsTlsEngine(), server: { certificates: new CertificateStore([key]) } },
    store,
    role: 'mx',
    maxConnectionsPerIp: 100,
  });
  const ours = createServer((s) => void handler.handleConnection(s, { implicitTls: false }));
  ours.listen(0, '127.0.0.1');
  await once(ours, 'listening');
  const peer = new SMTPServer({
    secure: false,
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    key: key.privateKeyPem,
    cert: key.certificateChainPem,
    onData(stream, _s, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => cb());
    },
  });
  peer.listen(0, '127.0.0.1');
  await once(peer.server, 'listening');
  return {
    key,
    ours,
    peer,
    ourPort: (ours.address() as AddressInfo).port,
    peerPort: (peer.server.address() as AddressInfo).port,
  };
}

async function stopServers(s: Servers | undefined): Promise<void> {
  if (!s) return;
  s.ours.close();
  await new Promise<void>((r) => s.peer.close(() => r()));
}

// Both sides as their defaults run them, except logging: `postern serve` logs at info (one line
// per message, one per STARTTLS); here both are silent (smtp-server: logger false).
const SIDES =
  '4.6 KB messages, 8 pooled nodemailer clients; Postern: ts TLS engine with the default crypto provider (as `postern serve`), messages indexed into the memory store; smtp-server: node:tls, data discarded; logging off on both sides';

export function smtpCases(): BenchCase[] {
  let servers: Servers | undefined;
  let client: SmtpClientProcess | undefined;
  let inProcess: Servers | undefined;
  const count = (quick: boolean) => (quick ? 300 : 1000);
  return [
    {
      name: 'smtp messages/s, 8 STARTTLS clients (memory store)',
      unit: 'msg/s',
      peerName: 'smtp-server',
      rounds: { quick: 3, full: 7 },
      note: `target ratio >= 1.0; ${SIDES}; the clients in a process of their own`,
      async setup() {
        servers = await startServers();
        client = SmtpClientProcess.start();
      },
      postern: async (quick) =>
        (await client!.blast(servers!.ourPort, servers!.key.certificateChainPem, count(quick))).rate,
      peer: async (quick) =>
        (await client!.blast(servers!.peerPort, servers!.key.certificateChainPem, count(quick))).rate,
      async teardown() {
        await client?.stop();
        await stopServers(servers);
      },
    },
    {
      name: 'smtp messages/s, clients in the server process',
      unit: 'msg/s',
      peerName: 'smtp-server',
      rounds: { quick: 3, full: 7 },
      note: `no target (the issue's case is the one above): ${SIDES}; clients and server share one event loop, so the side that does more per message (Postern indexes and stores it, smtp-server discards it) also pays for its clients' time`,
      async setup() {
        inProcess = await startServers();
      },
      postern: async (quick) =>
        (await blast(inProcess!.ourPort, inProcess!.key.certificateChainPem, count(quick))).rate,
      peer: async (quick) =>
        (await blast(inProcess!.peerPort, inProcess!.key.certificateChainPem, count(quick))).rate,
      async teardown() {
        await stopServers(inProcess);
      },
    },
  ];
}
