/**
 * TLS engine cases: handshakes/s and MB/s (16 KiB records) over loopback, our `ts` engine
 * (node and noble crypto providers) as the server against `native` (node:tls) as the peer.
 * The client is node:tls in both columns, so only the server engine differs.
 */
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import * as core from '@postern/core';
import { CertificateStore, NativeTlsEngine, generateSelfSigned, type CertifiedKey, type TlsEngine } from '@postern/core';
import type { BenchCase } from '../harness.js';
import { receiveAll } from '../tls-client-child.js';

export const RECORD = 16 * 1024;

export interface Rig {
  server: Server;
  port: number;
  key: CertifiedKey;
}

/** A loopback server running `engine.accept` on each connection; mode says what to do after. */
export async function startRig(engine: TlsEngine, key: CertifiedKey, mode: 'close' | { sendBytes: number }): Promise<Rig> {
  const certificates = new CertificateStore([key]);
  const server = createServer((socket: Socket) => {
    socket.on('error', () => socket.destroy());
    engine.accept(socket, { certificates }).then(
      async (tls) => {
        tls.on('error', () => tls.destroy());
        if (mode === 'close') {
          tls.end();
          return;
        }
        const chunk = Buffer.alloc(RECORD, 0x61);
        let left = mode.sendBytes;
        while (left > 0) {
          const n = Math.min(left, RECORD);
          left -= n;
          if (!tls.write(n === RECORD ? chunk : chunk.subarray(0, n))) await once(tls, 'drain');
        }
        tls.end();
      },
      () => socket.destroy(),
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, key };
}

/** A node:tls client reading until the server ends; resolves with the bytes it got. */
function clientSession(rig: Rig): Promise<number> {
  return receiveAll({ port: rig.port, ca: rig.key.certificateChainPem, tls: true });
}

async function handshakesPerSecond(rig: Rig, count: number): Promise<number> {
  const t0 = performance.now();
  // Two clients at a time: one per core on the machines we run on.
  let next = 0;
  const worker = async () => {
    while (next < count) {
      next++;
      await clientSession(rig);
    }
  };
  await Promise.all([worker(), worker()]);
  return count / ((performance.now() - t0) / 1000);
}

async function megabytesPerSecond(rig: Rig, bytes: number): Promise<number> {
  const t0 = performance.now();
  const got = await clientSession(rig);
  if (got !== bytes) throw new Error(`received ${got} of ${bytes} bytes`);
  return bytes / 2 ** 20 / ((performance.now() - t0) / 1000);
}

/** The engines under test; `ts` appears once the engine is exported by @postern/core. */
function tsEngines(): Array<{ label: string; engine: TlsEngine }> {
  const Ts = (core as Record<string, unknown>).TsTlsEngine as (new (o?: { crypto?: string }) => TlsEngine) | undefined;
  if (!Ts) return [];
  return [
    { label: 'ts+node', engine: new Ts({ crypto: 'node' }) },
    { label: 'ts+noble', engine: new Ts({ crypto: 'noble' }) },
  ];
}

export function tlsCases(): BenchCase[] {
  const cases: BenchCase[] = [];
  let key: CertifiedKey;
  const native = new NativeTlsEngine();
  const engines = tsEngines();
  if (engines.length === 0) {
    // Without our engine, measure native against itself so the harness and numbers stay honest.
    engines.push({ label: 'native', engine: native });
  }
  for (const { label, engine } of engines) {
    const rigs: { ours?: Rig; peer?: Rig } = {};
    cases.push({
      name: `tls handshakes ${label}`,
      unit: 'handshakes/s',
      peerName: 'node:tls',
      rounds: { quick: 3, full: 7 },
      note: 'target ts/native >= 0.8 (ECDSA P-256, x25519, TLS 1.3, node:tls client)',
      async setup() {
        key ??= await generateSelfSigned({ hostname: 'localhost' });
        rigs.ours = await startRig(engine, key, 'close');
        rigs.peer = await startRig(native, key, 'close');
      },
      postern: (quick) => handshakesPerSecond(rigs.ours!, quick ? 100 : 400),
      peer: (quick) => handshakesPerSecond(rigs.peer!, quick ? 100 : 400),
      async teardown() {
        rigs.ours?.server.close();
        rigs.peer?.server.close();
      },
    });
    const size = (quick: boolean) => (quick ? 32 : 128) * 2 ** 20;
    const bulk: { ours?: Rig; peer?: Rig } = {};
    cases.push({
      name: `tls throughput ${label}`,
      unit: 'MB/s',
      peerName: 'node:tls',
      rounds: { quick: 3, full: 7 },
      note: 'target ts/native >= 0.9 (16 KiB records, server to client)',
      async setup(quick) {
        key ??= await generateSelfSigned({ hostname: 'localhost' });
        bulk.ours = await startRig(engine, key, { sendBytes: size(quick) });
        bulk.peer = await startRig(native, key, { sendBytes: size(quick) });
      },
      postern: (quick) => megabytesPerSecond(bulk.ours!, size(quick)),
      peer: (quick) => megabytesPerSecond(bulk.peer!, size(quick)),
      async teardown() {
        bulk.ours?.server.close();
        bulk.peer?.server.close();
      },
    });
  }
  return cases;
}
