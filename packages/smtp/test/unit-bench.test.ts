/**
 * The benchmark's load driver works against Postern and against the peer (smtp-server), and
 * what it sends arrives whole.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { measureSmtpIngest } from '../src/index.js';
import { BOB, inbox, startHarness, type Harness } from './e2e-harness.js';

describe('smtp bench driver (measureSmtpIngest)', function () {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('delivers N pipelined messages to Postern and reports the octets sent', async () => {
    h = await startHarness({ role: 'mx' });
    const r = await measureSmtpIngest({ port: h.port, messages: 5, messageSize: 3000, to: [BOB] });
    assert.equal(r.messages, 5);
    assert.ok(r.octets > 5 * 3000);
    assert.ok(r.ms >= 0);
    const stored = await inbox(h.store, BOB);
    assert.equal(stored.length, 5);
    for (const m of stored) assert.match(m.toString(), /Subject: bench\r\n\r\nx{74}\r\n/);
  });

  it('drives smtp-server (the benchmark peer) as well', async () => {
    let received = 0;
    const peer = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      disableReverseLookup: true,
      logger: false,
      onData(stream, _session, cb) {
        stream.on('data', () => undefined);
        stream.on('end', () => {
          received++;
          cb();
        });
      },
    });
    peer.listen(0, '127.0.0.1');
    await once(peer.server, 'listening');
    try {
      const r = await measureSmtpIngest({
        port: (peer.server.address() as AddressInfo).port,
        messages: 3,
        to: ['a@peer.test'],
      });
      assert.equal(r.messages, 3);
      assert.equal(received, 3);
    } finally {
      await new Promise<void>((resolve) => peer.close(() => resolve()));
    }
  });
});
