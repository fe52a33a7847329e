/**
 * The fs backend keeps a message's index beside its `.eml`; the decoded text in it (up to
 * 1 MiB, for SEARCH BODY/TEXT) is stored compressed, so the index is a fraction of the
 * message instead of about its size (issue 19, item 7). Indexes written before, with the text
 * inline, still read back.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore } from '../src/fs/index.js';
import { indexMessage } from '../src/indexer/index.js';
import type { Store } from '../src/types.js';

const U = 'ix@example.com';
const WORDS = 'the mail gateway relays messages for users who read them over imap pop3 and news'.split(' ');

/** About `bytes` of prose-like text: words of a small vocabulary in a pseudo-random order. */
function prose(bytes: number): string {
  let seed = 7;
  const out: string[] = [];
  let n = 0;
  while (n < bytes) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const line = Array.from({ length: 12 }, (_, i) => WORDS[(seed >> i) % WORDS.length]).join(' ');
    out.push(line);
    n += line.length + 2;
  }
  return out.join('\r\n');
}

describe('fs store: the index file', () => {
  let dir: string;
  let s: Store;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-index-'));
    s = await openFsStore(dir, { domains: ['example.com'] });
    await s.accounts.addUser(U, 'pw');
  });
  afterEach(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function boxFiles(): Promise<string> {
    const root = join(dir, 'users');
    const entries = await readdir(root, { recursive: true });
    const eml = entries.find((e) => e.endsWith('1.eml'))!;
    return join(root, eml.slice(0, -'1.eml'.length));
  }

  it('keeps the decoded text compressed: a 1 MiB text message gets an index under a quarter of its size', async () => {
    const body = prose(1024 * 1024);
    const message = Buffer.from(`Subject: big\r\nFrom: a@example.com\r\n\r\n${body}\r\n`);
    await s.mail.append(U, 'INBOX', message);
    const msgs = await boxFiles();
    const eml = (await stat(join(msgs, '1.eml'))).size;
    const json = (await stat(join(msgs, '1.json'))).size;
    assert.equal(eml, message.length);
    assert.ok(json < eml / 4, `index ${json} bytes for a ${eml}-byte message`);
    // Nothing lost: the same text as the indexer made, for SEARCH BODY.
    const index = await s.mail.getIndex(U, 'INBOX', 1);
    assert.equal(index?.text, (await indexMessage(message)).text);
    assert.ok(index!.text.length > 1000 * 1000);
    assert.equal(index?.envelope.subject, 'big');
  });

  it('reads an index written the old way, with the text inline in the JSON', async () => {
    const message = Buffer.from('Subject: old\r\n\r\nfind the needle here\r\n');
    await s.mail.append(U, 'INBOX', message);
    const old = await indexMessage(message);
    await writeFile(join(await boxFiles(), '1.json'), JSON.stringify(old));
    const reopened = await openFsStore(dir);
    try {
      assert.deepEqual(await reopened.mail.getIndex(U, 'INBOX', 1), old);
    } finally {
      await reopened.close();
    }
  });
});
