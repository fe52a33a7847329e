/**
 * Before login an unauthenticated client makes the server hold no more than a few KiB of its
 * bytes (issue 19): literals are held to LITERAL- bounds (RFC 7888 §4), and one over them is
 * refused without a continuation request (synchronizing) or by closing (non-synchronizing).
 */
import assert from 'node:assert/strict';
import { RawClient } from './client.js';
import { ALICE, ALICE_PW, startHarness, type Harness } from './harness.js';

/** RFC 7888 §4's LITERAL- bound, which the server applies to every literal before login. */
const PRE_AUTH_MAX_LITERAL = 4096;
const last = (lines: string[]) => lines[lines.length - 1];

describe('imap input before login', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
  });
  afterEach(async () => {
    await h.close();
  });

  it('refuses a huge synchronizing literal with BAD [TOOBIG] and no continuation', async () => {
    const c = await RawClient.connect(h.port);
    assert.match(await c.readLine(), /^\* OK/);
    c.send('a LOGIN {45000000}\r\n');
    assert.equal(await c.readLine(), 'a BAD [TOOBIG] literal too large before login');
    // In step: the server is not waiting for 45 MB.
    assert.deepEqual(await c.command('b', 'NOOP'), ['b OK NOOP completed']);
    c.send(`c LOGIN {${PRE_AUTH_MAX_LITERAL + 1}}\r\n`);
    assert.match(await c.readLine(), /^c BAD \[TOOBIG\]/);
    c.close();
  });

  it('closes on huge non-synchronizing literals instead of reading them, for every client', async () => {
    const clients = await Promise.all(Array.from({ length: 10 }, () => RawClient.connect(h.port)));
    for (const c of clients) {
      assert.match(await c.readLine(), /^\* OK/);
      c.send('a LOGIN {45000000+}\r\n');
      // The first octets of the literal, as a client that does not wait would send them.
      c.send(Buffer.alloc(64 * 1024, 0x61));
    }
    for (const c of clients) {
      assert.equal(await c.readLine(), 'a BAD [TOOBIG] literal too large before login');
      assert.match(await c.readLine(), /^\* BYE \[TOOBIG\]/);
      assert.equal(await c.closed(), true);
    }
    // The server goes on serving.
    const d = await RawClient.connect(h.port);
    assert.match(await d.readLine(), /^\* OK/);
    assert.match(last(await d.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^l OK/);
    d.close();
  });

  it('takes small literals before login and message-sized ones after it', async () => {
    const c = await RawClient.connect(h.port);
    const greeting = await c.readLine();
    assert.match(greeting, /LITERAL-/);
    assert.doesNotMatch(greeting, /LITERAL\+/);
    const pw = Buffer.from(ALICE_PW);
    c.send(`l LOGIN ${ALICE} {${pw.length}}\r\n`);
    assert.match(await c.readLine(), /^\+ /);
    c.send(Buffer.concat([pw, Buffer.from('\r\n')]));
    const login = await c.until('l');
    assert.match(last(login), /^l OK \[CAPABILITY [^\]]*LITERAL\+/);
    const msg = `Subject: big\r\n\r\n${'x'.repeat(20_000)}\r\n`;
    c.send(`a APPEND INBOX {${msg.length}+}\r\n${msg}\r\n`);
    assert.match(last(await c.until('a')), /^a OK/);
    c.close();
  });
});
