/**
 * A raw NUL in a stored header (issue 19 item 10) must not reach an NNTP multi-line block
 * (RFC 3977 §3.1.1): OVER and HDR send it as a space, like TAB, CR and LF (§8.3.1).
 */
import assert from 'node:assert/strict';
import { NntpTestClient } from './client.js';
import { disposeStores, makeStore, startRig } from './harness.js';

describe('NNTP with hostile headers', () => {
  afterEach(() => disposeStores());

  it('sends no NUL in OVER and HDR for a header that carries one', async () => {
    const store = await makeStore();
    const raw = [
      'From: eve\0@example.test',
      'Newsgroups: local.test',
      'Subject: before\0after',
      'Message-ID: <nul@example.test>',
      'Date: Mon, 23 Nov 2026 07:00:00 +0000',
      '',
      'Body.',
      '',
    ].join('\r\n');
    await store.news.post(['local.test'], '<nul@example.test>', Buffer.from(raw, 'latin1'));
    const rig = await startRig({ store });
    const c = await NntpTestClient.connect(rig.port);
    try {
      await c.readLine();
      assert.match(await c.command('GROUP local.test'), /^211 /);
      const over = await c.commandBlock('OVER 1');
      assert.match(over.status, /^224 /);
      assert.equal(over.lines.length, 1);
      assert.ok(!over.lines[0].includes('\0'), JSON.stringify(over.lines[0]));
      assert.match(over.lines[0], /^1\tbefore after\t/);
      const hdr = await c.commandBlock('HDR Subject 1');
      assert.deepEqual(hdr.lines, ['1 before after']);
      const from = await c.commandBlock('HDR From 1');
      assert.ok(!from.lines[0].includes('\0'), JSON.stringify(from.lines[0]));
    } finally {
      c.destroy();
      await rig.close();
    }
  });
});
