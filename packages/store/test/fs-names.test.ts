/**
 * Client-chosen names never become paths as they are: users are encoded into one segment,
 * mailboxes and groups become numeric ids, Message-IDs are hashed. Hostile names stay
 * inside the store directory.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { encodeSegment } from '../src/fs/layout.js';
import { openFsStore } from '../src/fs/index.js';
import type { Store } from '../src/types.js';

async function walk(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    out.push(p);
    if (e.isDirectory()) out.push(...(await walk(p)));
  }
  return out;
}

describe('fs store: names never walk out', () => {
  it('encodes every hostile segment to something harmless', () => {
    for (const name of [
      '..',
      '.',
      '../../etc/passwd',
      'a/b',
      'a\\b',
      'x\0y',
      'tab\there',
      '\x7f',
      '',
      'CON',
      '.hidden',
    ]) {
      const seg = encodeSegment(name);
      assert.match(
        seg,
        /^(?:[a-z0-9_@+~-]|%[0-9A-F]{2})(?:[a-z0-9_@+.~-]|%[0-9A-F]{2})*$/,
        JSON.stringify(name),
      );
      assert.notEqual(seg, '..');
      assert.ok(!seg.includes('/') && !seg.includes('\\') && !seg.includes('\0'));
    }
    assert.notEqual(encodeSegment('A'), encodeSegment('a'), 'distinct names stay distinct');
    assert.ok(encodeSegment('x'.repeat(5000)).length <= 180);
    assert.notEqual(encodeSegment('x'.repeat(5000)), encodeSegment('x'.repeat(5001)));
  });

  describe('through the store', () => {
    let parent: string;
    let dir: string;
    let store: Store;
    before(async () => {
      parent = await mkdtemp(join(tmpdir(), 'postern-names-'));
      dir = join(parent, 'store');
      store = await openFsStore(dir, { domains: ['example.com'] });
    });
    after(async () => {
      await store.close();
      await rm(parent, { recursive: true, force: true });
    });

    it('hostile user, mailbox, group and Message-ID names create files only inside the store', async () => {
      const user = '../../escape@example.com';
      await store.accounts.addUser(user, 'pw');
      await store.mail.createMailbox(user, '../../../outside');
      await store.mail.append(user, '../../../outside', 'Subject: x\r\n\r\n.\r\n');
      await store.news.createGroup('alt.test');
      await store.news.post(['alt.test'], '<../../../x@y>', 'Subject: y\r\n\r\n.\r\n');
      assert.deepEqual(await readdir(parent), ['store'], 'nothing appeared beside the store');
      for (const p of await walk(dir)) {
        const rel = relative(dir, p);
        assert.ok(!rel.startsWith('..'), p);
        assert.ok(!rel.split(sep).includes('outside'), `a mailbox name became a path: ${rel}`);
      }
      assert.equal((await store.mail.list(user, '../../../outside')).length, 1);
      assert.ok(await store.news.hasMessageId('<../../../x@y>'));
    });
  });
});
