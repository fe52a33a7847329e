/**
 * TLS server CPU per byte sent, with the client in a process of its own (tls-client-child.ts):
 * the `tls throughput` cases share one event loop between server and client, these charge the
 * server alone. Unit: MB sent per second of the bench process's CPU (user + system).
 *
 * The `floor` case is no TLS engine at all: each 16 KiB chunk is sealed as a TLS 1.3 record
 * would be, AES-128-GCM through node:crypto's createCipheriv (the suite our engine picks with a
 * node:tls client, and cheaper than node:tls's own pick, AES-256-GCM), and written corked to a
 * net.Socket with the window our engine keeps. No engine that seals with node:crypto and writes
 * through net.Socket can spend less per record, so the floor's ratio to node:tls bounds what
 * the `ts+node` ratio can reach. Its client reads raw bytes but spends the AES-GCM work a TLS
 * reader would on them, so that it drains the socket at a TLS client's pace.
 */
import { createCipheriv, createSecretKey, randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { NativeTlsEngine, TsTlsEngine, generateSelfSigned, type CertifiedKey } from '@postern/core';
import type { BenchCase } from '../harness.js';
import { TlsClientProcess } from '../tls-client-child.js';
import { RECORD, startRig, type Rig } from './tls.js';

/** As ts-engine's SOCKET_WRITE_WINDOW. */
const WINDOW = 256 * 1024;

/** A server that seals records with node:crypto and writes them, nothing else (see above). */
async function startFloorRig(key: CertifiedKey, sendBytes: number): Promise<Rig> {
  const aeadKey = createSecretKey(randomBytes(16));
  const iv = randomBytes(12);
  const chunk = Buffer.alloc(RECORD, 0x61);
  const innerType = Buffer.of(23);
  const server = createServer((socket: Socket) => {
    socket.on('error', () => socket.destroy());
    void (async () => {
      let seq = 0;
      for (let left = sendBytes; left > 0; left -= RECORD) {
        const nonce = Buffer.from(iv);
        nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ seq++) >>> 0, 8);
        const header = Buffer.of(23, 3, 3, (RECORD + 17) >> 8, (RECORD + 17) & 0xff);
        const c = createCipheriv('aes-128-gcm', aeadKey, nonce, { authTagLength: 16 });
        c.setAAD(header);
        const body = c.update(chunk);
        const type = c.update(innerType);
        c.final();
        socket.cork();
        socket.write(header);
        socket.write(body);
        socket.write(type);
        socket.write(c.getAuthTag());
        socket.uncork();
        if (socket.writableLength > WINDOW) await once(socket, 'drain');
      }
      socket.end();
    })();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, key };
}

/** MB per CPU-second of this process while `client` receives `bytes` from `rig`. */
async function mbPerCpuSecond(
  client: TlsClientProcess,
  rig: Rig,
  bytes: number,
  tls: boolean,
): Promise<number> {
  const cpu0 = process.cpuUsage();
  const got = await client.receive({ port: rig.port, ca: rig.key.certificateChainPem, tls });
  const cpu = process.cpuUsage(cpu0);
  // The floor's client reads raw records: 22 bytes of framing per 16 KiB chunk.
  const expected = tls ? bytes : bytes + (bytes / RECORD) * 22;
  if (got !== expected) throw new Error(`received ${got} of ${expected} bytes`);
  return bytes / 2 ** 20 / ((cpu.user + cpu.system) / 1e6);
}

export function tlsServerCpuCases(): BenchCase[] {
  const size = (quick: boolean) => (quick ? 64 : 256) * 2 ** 20;
  const cases: BenchCase[] = [];
  for (const which of ['ts+node', 'floor'] as const) {
    const s: { client?: TlsClientProcess; ours?: Rig; peer?: Rig } = {};
    cases.push({
      name: `tls server CPU ${which}`,
      unit: 'MB/CPU-s',
      peerName: 'node:tls',
      rounds: { quick: 3, full: 7 },
      note:
        which === 'ts+node'
          ? 'server CPU alone, node:tls client in its own process (16 KiB records)'
          : 'no engine: node:crypto AES-128-GCM seal + corked net.Socket write per 16 KiB record, the bound on ts+node',
      async setup(quick) {
        const key = await generateSelfSigned({ hostname: 'localhost' });
        s.client = TlsClientProcess.start();
        s.ours =
          which === 'floor'
            ? await startFloorRig(key, size(quick))
            : await startRig(new TsTlsEngine({ crypto: 'node' }), key, { sendBytes: size(quick) });
        s.peer = await startRig(new NativeTlsEngine(), key, { sendBytes: size(quick) });
      },
      postern: (quick) => mbPerCpuSecond(s.client!, s.ours!, size(quick), which !== 'floor'),
      peer: (quick) => mbPerCpuSecond(s.client!, s.peer!, size(quick), true),
      async teardown() {
        s.ours?.server.close();
        s.peer?.server.close();
        await s.client?.stop();
      },
    });
  }
  return cases;
}
