/**
 * Relay worker details beyond the upstream scenarios: MAIL and RCPT pipelined when the upstream
 * offers PIPELINING (RFC 2920 §3.1), one at a time when it does not, and a recipient-level 4xx
 * that defers that recipient alone.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeTlsEngine } from '@postern/core';
import { openFsStore, type Store } from '@postern/store';
import { RelayWorker } from '../src/relay/index.js';

const SENDER = 'alice@local.test';
const MESSAGE = Buffer.from('From: alice@local.test\r\nSubject: pipelining\r\n\r\nHello\r\n');

interface Transaction {
  to: string[];
}

/**
 * A plaintext upstream that records each packet of commands it reads (so a test can see what
 * arrived together) and refuses the recipients `refuse` names with a 451.
 */
async function startRecordingUpstream(options: { pipelining: boolean; refuse: (rcpt: string) => boolean }) {
  const packets: string[] = [];
  const transactions: Transaction[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buf = '';
    let inData = false;
    let to: string[] = [];
    socket.write('220 recorder ESMTP\r\n');
    socket.on('data', (d: Buffer) => {
      if (!inData) packets.push(d.toString('latin1'));
      buf += d.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end === -1) return;
          buf = buf.slice(end + 5);
          inData = false;
          transactions.push({ to });
          socket.write('250 2.0.0 queued\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl === -1) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        const verb = line.slice(0, 4).toUpperCase();
        if (verb === 'EHLO')
          socket.write(options.pipelining ? '250-recorder\r\n250 PIPELINING\r\n' : '250 recorder\r\n');
        else if (verb === 'MAIL') {
          to = [];
          socket.write('250 2.1.0 ok\r\n');
        } else if (verb === 'RCPT') {
          const rcpt = /<(.*)>/.exec(line)?.[1] ?? '';
          if (options.refuse(rcpt)) socket.write('451 4.2.1 mailbox busy, try later\r\n');
          else {
            to.push(rcpt);
            socket.write('250 2.1.5 ok\r\n');
          }
        } else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go on\r\n');
        } else if (verb === 'QUIT') socket.end('221 2.0.0 bye\r\n');
        else socket.write('250 2.0.0 ok\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    port: (server.address() as AddressInfo).port,
    packets,
    transactions,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

describe('relay worker: pipelining and recipient-level replies', function () {
  let store: Store;
  let dir: string;
  const cleanups: Array<() => Promise<void>> = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-relay-rcpt-'));
    store = await openFsStore(dir, { domains: ['local.test'] });
    await store.accounts.addUser(SENDER, 'pw');
  });
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function worker(port: number): RelayWorker {
    const w = new RelayWorker({
      store,
      hostname: 'gw.local.test',
      engine: new NativeTlsEngine(),
      smarthost: { host: '127.0.0.1', port },
      tls: 'off',
      replyTimeoutMs: 10_000,
    });
    cleanups.push(() => w.stop());
    return w;
  }

  const commandsIn = (packet: string) => packet.split('\r\n').filter((l) => /^(MAIL|RCPT)/.test(l)).length;

  it('sends MAIL and every RCPT in one write when the upstream offers PIPELINING', async () => {
    const up = await startRecordingUpstream({ pipelining: true, refuse: () => false });
    cleanups.push(up.close);
    await store.queue.enqueue(
      { from: SENDER, to: ['a@remote.test', 'b@remote.test', 'c@remote.test'] },
      MESSAGE,
    );
    assert.equal((await worker(up.port).runOnce()).delivered, 1);
    const envelopePackets = up.packets.filter((p) => commandsIn(p) > 0);
    assert.deepEqual(envelopePackets.map(commandsIn), [4], 'MAIL and three RCPTs arrived together');
    assert.deepEqual(up.transactions, [{ to: ['a@remote.test', 'b@remote.test', 'c@remote.test'] }]);
  });

  it('waits for each reply when the upstream does not offer PIPELINING', async () => {
    const up = await startRecordingUpstream({ pipelining: false, refuse: () => false });
    cleanups.push(up.close);
    await store.queue.enqueue({ from: SENDER, to: ['a@remote.test', 'b@remote.test'] }, MESSAGE);
    assert.equal((await worker(up.port).runOnce()).delivered, 1);
    assert.deepEqual(
      up.packets.filter((p) => commandsIn(p) > 0).map(commandsIn),
      [1, 1, 1],
      'one command per packet',
    );
  });

  it('a 4xx for one recipient defers only that recipient; the retry goes to it alone', async () => {
    let busy = true;
    const up = await startRecordingUpstream({
      pipelining: true,
      refuse: (r) => busy && r === 'b@remote.test',
    });
    cleanups.push(up.close);
    const id = await store.queue.enqueue({ from: SENDER, to: ['a@remote.test', 'b@remote.test'] }, MESSAGE);
    const w = worker(up.port);
    const first = await w.runOnce();
    assert.equal(first.deferred, 1);
    const item = await store.queue.get(id);
    assert.deepEqual(item?.pending, ['b@remote.test'], 'only the refused recipient is still pending');
    assert.match(item?.lastError ?? '', /451/);
    assert.deepEqual(up.transactions, [{ to: ['a@remote.test'] }], 'the other recipient was delivered');
    busy = false;
    assert.equal(await store.queue.flush(), 1);
    assert.equal((await w.runOnce()).delivered, 1);
    assert.deepEqual(
      up.transactions,
      [{ to: ['a@remote.test'] }, { to: ['b@remote.test'] }],
      'no duplicate to a',
    );
    assert.equal(await store.queue.get(id), undefined);
    assert.equal((await store.mail.list(SENDER, 'INBOX')).length, 0, 'no bounce for a temporary failure');
  });
});
