/**
 * The live gateway a hostile case runs against, in this process (`startGateway`) or in a child
 * process running the same `startGateway` (gateway-child.ts) for the cases that, before their
 * fix, kill the process (TLS) or block its event loop for minutes (patterns): in this process
 * those would end or freeze the test run itself instead of failing one test.
 * `checkServing()` is what every case ends with: the process is alive and a fresh client from
 * another address is served on every listener within a second.
 */
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { startGateway, type Gateway, type GatewayOptions } from '@postern/server';
import { LISTENERS, servedWithin, type ListenerInfo, type ListenerName } from './listeners.js';

export const USER = { address: 'alice@example.test', password: 'correct horse battery' };
export const OTHER_USER = { address: 'bob@example.test', password: 'bobs own password' };

/**
 * Gateway options plus `limits`, which the protocol-server module adds (issue 19 item 5); kept
 * out of the object literal's checked type so this suite compiles before and after it lands.
 */
export type HostileOptions = GatewayOptions & {
  limits?: {
    maxConnectionsPerIp?: number;
    maxConnections?: number;
    commandTimeoutMs?: number;
    preAuthTimeoutMs?: number;
    idleTimeoutMs?: number;
  };
};

export function baseOptions(extra: Partial<HostileOptions> = {}): HostileOptions {
  return {
    store: 'memory',
    domains: ['example.test'],
    users: [USER, OTHER_USER],
    relay: 'capture',
    // Plaintext LOGIN on loopback keeps the cases about the hostile input, not about STARTTLS.
    allowInsecureAuth: true,
    ...extra,
  };
}

export interface GatewayUnderTest {
  readonly ports: Partial<Record<ListenerName, number>>;
  readonly certificatePem: string;
  /** The in-process gateway (undefined for a child). */
  readonly gateway: Gateway | undefined;
  /** Why the process is not alive and responsive within `withinMs`, or undefined when it is. */
  alive(withinMs?: number): Promise<string | undefined>;
  close(): Promise<void>;
}

export function port(gut: GatewayUnderTest, name: ListenerName): number {
  const p = gut.ports[name];
  assert.ok(p, `listener ${name} is open`);
  return p;
}

/** Assert the process is alive and every listener (or those given) serves a fresh client. */
export async function checkServing(
  gut: GatewayUnderTest,
  listeners: readonly ListenerInfo[] = LISTENERS,
  localAddress?: string,
): Promise<void> {
  const dead = await gut.alive();
  assert.equal(dead, undefined, `the gateway process is alive: ${dead}`);
  const failures = (
    await Promise.all(listeners.map((l) => servedWithin(port(gut, l.name), l, { localAddress })))
  ).filter((r) => r !== undefined);
  assert.deepEqual(failures, [], 'another client is served within a second on every listener');
}

export async function inProcessGateway(options: HostileOptions): Promise<GatewayUnderTest> {
  const gw = await startGateway(options as GatewayOptions);
  return {
    ports: gw.ports,
    certificatePem: gw.certificatePem,
    gateway: gw,
    // Our own process: alive if its event loop turns (a blocked loop would not reach this line).
    alive: async () => undefined,
    close: () => gw.close(),
  };
}

/** The child script next to this file, in the same flavour (.ts from sources, .js from dist). */
function childScript(): string {
  const self = fileURLToPath(import.meta.url);
  return self.replace(/gateway-under-test\.(ts|js)$/, 'gateway-child.$1');
}

export interface ChildGateway extends GatewayUnderTest {
  readonly child: ChildProcess;
  /** What the child wrote on stderr (a crash's stack ends up here). */
  readonly stderr: () => string;
}

export function childGateway(options: HostileOptions, startTimeoutMs = 20_000): Promise<ChildGateway> {
  // The child inherits this process's execArgv: from sources that loads tsx and the source condition.
  const child = fork(childScript(), [JSON.stringify(options)], {
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
  });
  // A child whose event loop is blocked never sees the IPC channel close: it must not outlive us.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  let stderr = '';
  child.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-20_000)));
  let exit: string | undefined;
  const exited = new Promise<void>((r) =>
    child.once('exit', (code, signal) => {
      exit = `exited (code ${code}, signal ${signal}): ${stderr.trim().split('\n').slice(0, 6).join(' | ')}`;
      r();
    }),
  );
  let nextId = 0;
  const pongs = new Map<number, () => void>();
  child.on('message', (msg: { type: string; id?: number }) => {
    if (msg.type === 'pong') pongs.get(msg.id!)?.();
  });
  const kill = async () => {
    if (exit === undefined) {
      child.kill('SIGKILL');
      await exited;
    }
  };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      void kill();
      reject(new Error(`gateway child not ready after ${startTimeoutMs} ms: ${stderr}`));
    }, startTimeoutMs);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`gateway child ${exit}`));
    });
    child.on(
      'message',
      (msg: { type: string; ports?: GatewayUnderTest['ports']; certificatePem?: string }) => {
        if (msg.type !== 'ready') return;
        clearTimeout(timer);
        resolve({
          child,
          ports: msg.ports!,
          certificatePem: msg.certificatePem!,
          gateway: undefined,
          stderr: () => stderr,
          alive: async (withinMs = 1000) => {
            if (exit !== undefined) return exit;
            const id = nextId++;
            let timer: NodeJS.Timeout | undefined;
            const answered = await Promise.race([
              new Promise<boolean>((r) => {
                pongs.set(id, () => r(true));
                child.send({ type: 'ping', id }, (err) => err && r(false));
              }),
              exited.then(() => false),
              new Promise<boolean>((r) => (timer = setTimeout(() => r(false), withinMs))),
            ]);
            clearTimeout(timer);
            pongs.delete(id);
            if (answered) return undefined;
            return exit ?? `did not answer a ping within ${withinMs} ms (event loop blocked)`;
          },
          // SIGKILL: a process whose event loop is blocked ignores SIGTERM (issue 19 item 2).
          close: kill,
        });
      },
    );
  });
}
