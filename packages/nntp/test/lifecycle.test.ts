import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { NntpTestClient } from './client.js';
import { disposeStores, makeStore, startRig } from './harness.js';

describe('NNTP session lifecycle', () => {
  afterEach(() => disposeStores());
  it('says 400 and closes an idle session at shutdown', async () => {
    const rig = await startRig();
    const c = await NntpTestClient.connect(rig.port);
    try {
      assert.match(await c.readLine(), /^200 /);
      assert.match(await c.command('DATE'), /^111 /);
      await rig.server.shutdown(2000);
      assert.match(await c.rest(), /^400 Server shutting down\r\n$/);
      assert.equal(rig.server.connections, 0);
    } finally {
      c.destroy();
      await rig.close();
    }
  });

  it('says 400 and closes a session idle past idleTimeoutMs', async () => {
    const rig = await startRig({ idleTimeoutMs: 50 });
    const c = await NntpTestClient.connect(rig.port);
    try {
      assert.match(await c.readLine(), /^200 /);
      assert.match(await c.rest(), /^400 Idle timeout/);
    } finally {
      c.destroy();
      await rig.close();
    }
  });

  it('closes the connection when the STARTTLS handshake fails, and keeps serving others', async () => {
    const rig = await startRig();
    try {
      const raw = connect({ host: '127.0.0.1', port: rig.port });
      let received = '';
      let onData: (() => void) | undefined;
      raw.on('data', (d: Buffer) => {
        received += d.toString('latin1');
        onData?.();
      });
      const closed = new Promise<void>((resolve) => raw.on('close', () => resolve()));
      raw.on('error', () => undefined);
      raw.write('STARTTLS\r\n');
      await new Promise<void>((resolve) => {
        onData = () => {
          if (received.includes('382')) resolve();
        };
      });
      // Not a ClientHello: plaintext commands where the handshake should be.
      raw.write('GROUP local.test\r\nQUIT\r\n');
      await closed;
      assert.doesNotMatch(received, /211|205/);
      const c = await NntpTestClient.connect(rig.port);
      assert.match(await c.readLine(), /^200 /);
      c.destroy();
    } finally {
      await rig.close();
    }
  });

  it('answers 403 when the store fails before a reply, and goes on', async () => {
    const store = await makeStore();
    const getGroup = store.news.getGroup.bind(store.news);
    let failures = 1;
    store.news.getGroup = async (name: string) => {
      if (failures-- > 0) throw new Error('disk on fire');
      return getGroup(name);
    };
    const rig = await startRig({ store });
    const c = await NntpTestClient.connect(rig.port);
    try {
      await c.readLine();
      assert.equal(await c.command('GROUP local.test'), '403 Internal fault');
      assert.match(await c.command('GROUP local.test'), /^211 /);
    } finally {
      c.destroy();
      await rig.close();
    }
  });
});
