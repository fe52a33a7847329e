/**
 * Input before login is bounded (issue 19 item 3): an AUTH continuation line (RFC 5034 §4) is
 * held to the command line limit like any line; a longer one is refused and dropped as it
 * comes, and the session goes on in step.
 */
import assert from 'node:assert/strict';
import { TestClient } from './client.js';
import { startHarness, type Harness } from './harness.js';

describe('pop3 input before login', () => {
  let h: Harness;
  afterEach(async () => {
    await h.close();
  });

  it('refuses an over-long AUTH continuation line and stays in step', async () => {
    h = await startHarness({ allowInsecureAuth: true });
    const c = await TestClient.connect(h.port);
    assert.match(await c.readLine(), /^\+OK /);
    assert.match(await c.command('AUTH PLAIN'), /^\+ ?$/);
    // 4 MiB without a line end, in pieces, then the end of the line.
    const piece = Buffer.alloc(256 * 1024, 0x41);
    for (let i = 0; i < 16; i++) c.send(piece);
    c.send('\r\n');
    assert.match(await c.readLine(), /^-ERR /);
    assert.match(await c.command('NOOP'), /^-ERR /); // NOOP is a TRANSACTION command
    assert.match(await c.command('CAPA'), /^\+OK/);
    c.destroy();
  });
});
