/**
 * SMTP ingest (issue 5): messages/s from 8 concurrent STARTTLS clients (nodemailer, pooled),
 * Postern's MX on the memory store against smtp-server discarding the data in the same run.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import nodemailer from 'nodemailer';
import { SMTPServer } from 'smtp-server';
import { CertificateStore, TsTlsEngine, generateSelfSigned, type CertifiedKey } from '@postern/core';
import { SmtpServer } from '@postern/smtp';
import { createMemoryStore } from '@postern/store';
import type { BenchCase } from '../harness.js';

const TO = 'bench@example.test';
const BODY = 'x'.repeat(76) + '\r\n';

async function blast(port: number, ca: string, count: number): Promise<number> {
  const transport = nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure: false,
    requireTLS: true,
    pool: true,
    maxConnections: 8,
    maxMessages: Infinity,
    tls: { ca, servername: 'localhost' },
  } as never);
  const raw = `From: a@remote.test\r\nTo: ${TO}\r\nSubject: bench\r\n\r\n${BODY.repeat(60)}`;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: count }, () =>
      transport.sendMail({ envelope: { from: 'a@remote.test', to: [TO] }, raw }),
    ),
  );
  const rate = (count / (performance.now() - t0)) * 1000;
  transport.close();
  return rate;
}

export function smtpCases(): BenchCase[] {
  let key: CertifiedKey;
  let ours: Server | undefined;
  let peer: SMTPServer | undefined;
  let ourPort = 0;
  let peerPort = 0;
  return [
    {
      name: 'smtp messages/s, 8 STARTTLS clients (memory store)',
      unit: 'msg/s',
      peerName: 'smtp-server',
      rounds: { quick: 3, full: 7 },
      // Both sides as their defaults run them, except logging: `postern serve` logs at info (one
      // line per message, one per STARTTLS); here both are silent (smtp-server: logger false).
      note: 'target ratio >= 1.0; 4.6 KB messages, 8 pooled nodemailer clients, same process; Postern: ts TLS engine with the default crypto provider (as `postern serve`), messages indexed into the memory store; smtp-server: node:tls, data discarded; logging off on both sides',
      async setup() {
        key = await generateSelfSigned({ hostname: 'localhost' });
        const store = createMemoryStore({ domains: ['example.test'] });
        await store.accounts.addUser(TO, 'pw');
        const handler = new SmtpServer({
          hostname: 'localhost',
          tls: { engine: new TsTlsEngine(), server: { certificates: new CertificateStore([key]) } },
          store,
          role: 'mx',
          maxConnectionsPerIp: 100,
        });
        ours = createServer((s) => void handler.handleConnection(s, { implicitTls: false }));
        ours.listen(0, '127.0.0.1');
        await once(ours, 'listening');
        ourPort = (ours.address() as AddressInfo).port;
        peer = new SMTPServer({
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
        peerPort = (peer.server.address() as AddressInfo).port;
      },
      postern: (quick) => blast(ourPort, key.certificateChainPem, quick ? 300 : 1000),
      peer: (quick) => blast(peerPort, key.certificateChainPem, quick ? 300 : 1000),
      async teardown() {
        ours?.close();
        await new Promise<void>((r) => (peer ? peer.close(() => r()) : r()));
      },
    },
  ];
}
