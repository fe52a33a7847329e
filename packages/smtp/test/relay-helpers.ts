/** Upstreams for the relay tests: smtp-server over node:tls, and a scriptable raw server. */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';

export interface Received {
  from: string;
  to: string[];
  message: Buffer;
  tlsVersion: string | null;
}

export interface Upstream {
  port: number;
  received: Received[];
  close(): Promise<void>;
}

/** smtp-server with STARTTLS (node:tls underneath), collecting what it accepts. */
export async function startSmtpServerUpstream(
  options: Partial<SMTPServerOptions> & { key: string; cert: string },
): Promise<Upstream> {
  const received: Received[] = [];
  const tlsVersions = new Map<string, string>();
  const server = new SMTPServer({
    secure: false,
    authOptional: true,
    disableReverseLookup: true,
    logger: false,
    onSecure(socket, session, cb) {
      tlsVersions.set(session.id, (socket as TLSSocket).getProtocol() ?? '');
      cb();
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          message: Buffer.concat(chunks),
          tlsVersion: tlsVersions.get(session.id) ?? null,
        });
        cb();
      });
    },
    ...options,
  });
  server.listen(0, '127.0.0.1');
  await once(server.server, 'listening');
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/**
 * A plaintext SMTP server driven by a script: `onData(attempt)` decides whether the
 * connection is dropped in the middle of the message.
 */
export async function startScriptedUpstream(
  dropDuringData: (attempt: number) => boolean,
): Promise<Upstream & { connections: () => number }> {
  const received: Received[] = [];
  let attempts = 0;
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    const attempt = ++attempts;
    let buf = '';
    let inData = false;
    let body = '';
    let from = '';
    const to: string[] = [];
    socket.write('220 scripted ESMTP\r\n');
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (dropDuringData(attempt) && buf.length > 0) {
            socket.destroy();
            return;
          }
          if (end === -1) return;
          body += buf.slice(0, end + 2);
          buf = buf.slice(end + 5);
          inData = false;
          received.push({
            from,
            to: [...to],
            message: Buffer.from(body.replace(/^\.\./gm, '.'), 'latin1'),
            tlsVersion: null,
          });
          socket.write('250 2.0.0 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl === -1) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO') socket.write('250-scripted\r\n250 8BITMIME\r\n');
        else if (verb === 'MAIL') {
          from = /<(.*)>/.exec(line)?.[1] ?? '';
          socket.write('250 2.1.0 ok\r\n');
        } else if (verb === 'RCPT') {
          to.push(/<(.*)>/.exec(line)?.[1] ?? '');
          socket.write('250 2.1.5 ok\r\n');
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go on\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 2.0.0 bye\r\n');
        } else socket.write('250 2.0.0 ok\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    received,
    connections: () => attempts,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}
