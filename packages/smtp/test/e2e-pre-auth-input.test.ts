/**
 * Input before login is bounded (issue 19 item 3): an AUTH continuation line (RFC 4954 §4)
 * is held to the command line limit like any line; a longer one is refused (500 5.5.6) and
 * dropped as it comes, and the session goes on in step.
 */
import assert from 'node:assert/strict';
import { RawClient, startHarness, type Harness } from './e2e-harness.js';

describe('smtp server: input before login', function () {
  this.timeout(30_000);
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('refuses an over-long AUTH continuation line and stays in step', async () => {
    h = await startHarness({ role: 'submission', relay: 'queue', allowInsecureAuth: true });
    const c = await RawClient.connect(h.port);
    assert.equal((await c.reply()).code, 220);
    assert.equal((await c.command('EHLO client.example.net')).code, 250);
    assert.equal((await c.command('AUTH PLAIN')).code, 334);
    // 4 MiB without a line end, in pieces, then the end of the line.
    const piece = Buffer.alloc(256 * 1024, 0x41);
    for (let i = 0; i < 16; i++) c.write(piece);
    c.write('\r\n');
    const refused = await c.reply();
    assert.equal(refused.code, 500);
    assert.equal((await c.command('NOOP')).code, 250);
    assert.equal((await c.command('QUIT')).code, 221);
  });
});
