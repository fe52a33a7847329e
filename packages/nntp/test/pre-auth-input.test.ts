/**
 * Input before login is bounded (issue 19 item 3): an AUTHINFO SASL response line (RFC 4643
 * §2.4) is held to the command line limit like any line; a longer one is refused and dropped
 * as it comes, and the session goes on in step.
 */
import assert from 'node:assert/strict';
import { NntpTestClient } from './client.js';
import { disposeStores, startRig } from './harness.js';

describe('NNTP input before login', () => {
  afterEach(() => disposeStores());

  it('refuses an over-long AUTHINFO SASL response line and stays in step', async () => {
    const rig = await startRig({ allowInsecureAuth: true });
    const c = await NntpTestClient.connect(rig.port);
    try {
      await c.readLine();
      assert.match(await c.command('AUTHINFO SASL PLAIN'), /^383 /);
      // 4 MiB without a line end, in pieces, then the end of the line.
      const piece = Buffer.alloc(256 * 1024, 0x41);
      for (let i = 0; i < 16; i++) c.send(piece);
      c.send('\r\n');
      assert.match(await c.readLine(), /^[45]\d\d /);
      assert.match(await c.command('DATE'), /^111 /);
    } finally {
      c.destroy();
      await rig.close();
    }
  });
});
