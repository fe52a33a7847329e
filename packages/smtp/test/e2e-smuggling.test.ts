/**
 * SMTP smuggling (the 2023 end-of-data ambiguity, CVE-2023-51764/51765/51766): only
 * <CRLF>.<CRLF> ends DATA (RFC 5321 §4.1.1.4). A bare LF or CR around the dot must never end
 * the message early and let what follows run as a second, forged transaction.
 */
import assert from 'node:assert/strict';
import { BOB, inbox, RawClient, startHarness, type Harness } from './e2e-harness.js';

const VARIANTS: Array<[string, string]> = [
  ['<LF>.<LF>', '\n.\n'],
  ['<LF>.<CRLF>', '\n.\r\n'],
  ['<CRLF>.<LF>', '\r\n.\n'],
  ['<CR>.<CR>', '\r.\r'],
  ['<CR>.<CRLF>', '\r.\r\n'],
];

describe('smtp server: no SMTP smuggling', function () {
  this.timeout(30_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({ role: 'mx' });
  });
  after(async () => h.close());

  for (const [name, fake] of VARIANTS) {
    it(`does not end DATA at ${name}`, async () => {
      const before = (await inbox(h.store, BOB)).length;
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.command('EHLO client.example.net');
      await c.command('MAIL FROM:<carol@remote.example>');
      await c.command('RCPT TO:<bob@example.org>');
      assert.equal((await c.command('DATA')).code, 354);
      c.write(
        `From: carol@remote.example\r\nSubject: outer\r\n\r\nouter body${fake}` +
          'MAIL FROM:<admin@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nFrom: admin@example.org\r\nSubject: smuggled\r\n\r\nforged\r\n.\r\n',
      );
      const r = await c.reply();
      // Either the whole thing is one message, or it is refused: never a second transaction.
      assert.ok(r.code === 250 || r.code >= 500, r.raw);
      const next = await c.command('NOOP');
      assert.equal(next.code, 250, `exactly one reply to the block, then NOOP: ${next.raw}`);
      assert.equal(c.pending, '');
      await c.command('QUIT');
      await c.closed();
      const all = await inbox(h.store, BOB);
      assert.ok(all.length - before <= 1, 'at most one message stored');
      for (const m of all.slice(before)) assert.match(m.toString(), /Subject: outer/);
    });
  }
});
