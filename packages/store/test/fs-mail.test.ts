/**
 * MailStore and Queue behaviour of the fs backend beyond the shared conformance suite:
 * mailbox management, copy/move, CONDSTORE, the change feed of one handle, and the queue's
 * lease cycle, each checked against what a fresh handle reads back from disk.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { text } from 'node:stream/consumers';
import { openFsStore } from '../src/fs/index.js';
import { StoreError, type MailChange, type Store } from '../src/types.js';

const U = 'm@example.com';
const msg = (s: string): string => `Subject: ${s}\r\n\r\n${s}\r\n`;
const code = (c: string) => (e: unknown) => e instanceof StoreError && e.code === c;

describe('fs store: mail and queue', () => {
  let dir: string;
  let s: Store;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-mail-'));
    s = await openFsStore(dir, { domains: ['example.com'] });
    await s.accounts.addUser(U, 'pw');
  });
  afterEach(async () => {
    await s.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('creates, renames (with children) and deletes mailboxes, and a fresh handle agrees', async () => {
    await s.mail.createMailbox(U, 'Work');
    await s.mail.createMailbox(U, 'Work/2026');
    await assert.rejects(s.mail.createMailbox(U, 'Work'), code('EXISTS'));
    await s.mail.append(U, 'Work/2026', msg('a'));
    const before = await s.mail.getMailbox(U, 'Work/2026');
    await s.mail.renameMailbox(U, 'Work', 'Jobs');
    assert.equal(await s.mail.getMailbox(U, 'Work/2026'), undefined);
    const after = await s.mail.getMailbox(U, 'Jobs/2026');
    assert.equal(after?.uidValidity, before?.uidValidity, 'a rename keeps UIDVALIDITY');
    assert.equal(after?.messages, 1);
    await s.mail.deleteMailbox(U, 'Jobs/2026');
    await assert.rejects(s.mail.deleteMailbox(U, 'Jobs/2026'), code('NOT_FOUND'));
    await s.mail.createMailbox(U, 'Jobs/2026');
    assert.notEqual((await s.mail.getMailbox(U, 'Jobs/2026'))?.uidValidity, before?.uidValidity);
    const fresh = await openFsStore(dir);
    try {
      const names = (await fresh.mail.listMailboxes(U)).map((m) => m.name);
      assert.ok(names.includes('Jobs') && names.includes('Jobs/2026') && !names.includes('Work'));
      assert.deepEqual(await fresh.mail.list(U, 'Jobs/2026'), []);
    } finally {
      await fresh.close();
    }
  });

  it('INBOX is case-insensitive; renaming it moves its messages and leaves it empty', async () => {
    await s.mail.append(U, 'inbox', msg('x'));
    assert.equal((await s.mail.getMailbox(U, 'InBoX'))?.messages, 1);
    await s.mail.renameMailbox(U, 'INBOX', 'Old');
    assert.equal((await s.mail.getMailbox(U, 'INBOX'))?.messages, 0);
    assert.equal((await s.mail.getMailbox(U, 'Old'))?.messages, 1);
  });

  it('copy and move keep content, flags and dates, with a UID map', async () => {
    await s.mail.createMailbox(U, 'Dest');
    const date = new Date('2020-01-02T03:04:05Z');
    const a = await s.mail.append(U, 'INBOX', msg('a'), { flags: ['\\Flagged'], internalDate: date });
    const b = await s.mail.append(U, 'INBOX', msg('b'));
    const copied = await s.mail.copy(U, 'INBOX', [a.uid, 999], 'Dest');
    assert.deepEqual(copied.map, [[a.uid, 1]]);
    const [c] = await s.mail.list(U, 'Dest');
    assert.deepEqual(c.flags, ['\\Flagged']);
    assert.equal(c.internalDate.getTime(), date.getTime());
    const moved = await s.mail.move(U, 'INBOX', [a.uid, b.uid], 'Dest');
    assert.deepEqual(moved.map, [
      [a.uid, 2],
      [b.uid, 3],
    ]);
    assert.deepEqual(await s.mail.list(U, 'INBOX'), []);
    assert.equal(await text(await s.mail.openMessage(U, 'Dest', 3)), msg('b'));
    // The copy's files outlive the source's expunge (they are links to one file).
    assert.equal(await text(await s.mail.openMessage(U, 'Dest', 1)), msg('a'));
  });

  it('CONDSTORE: unchangedSince refuses changed messages, changedSince lists changes', async () => {
    const a = await s.mail.append(U, 'INBOX', msg('a'));
    const b = await s.mail.append(U, 'INBOX', msg('b'));
    const r1 = await s.mail.updateFlags(U, 'INBOX', [a.uid], 'add', ['\\Seen']);
    const seenAt = r1.updated[0].modseq;
    assert.ok(seenAt > b.modseq);
    const r2 = await s.mail.updateFlags(U, 'INBOX', [a.uid, b.uid], 'add', ['$X'], {
      unchangedSince: b.modseq,
    });
    assert.deepEqual(r2.failed, [a.uid]);
    assert.deepEqual(
      r2.updated.map((m) => m.uid),
      [b.uid],
    );
    const changed = await s.mail.list(U, 'INBOX', undefined, { changedSince: seenAt });
    assert.deepEqual(
      changed.map((m) => m.uid),
      [b.uid],
    );
    const info = await s.mail.getMailbox(U, 'INBOX');
    assert.equal(info?.highestModseq, r2.updated[0].modseq);
    assert.equal(info?.unseen, 1);
  });

  it('expunge removes only \\Deleted messages (within the given UIDs) and UIDs are never reused', async () => {
    const uids = [];
    for (const x of ['a', 'b', 'c']) uids.push((await s.mail.append(U, 'INBOX', msg(x))).uid);
    await s.mail.updateFlags(U, 'INBOX', uids, 'add', ['\\Deleted']);
    assert.deepEqual(await s.mail.expunge(U, 'INBOX', [uids[0]]), [uids[0]]);
    assert.deepEqual(await s.mail.expunge(U, 'INBOX'), [uids[1], uids[2]]);
    const next = await s.mail.append(U, 'INBOX', msg('d'));
    assert.equal(next.uid, uids[2] + 1);
    await assert.rejects(s.mail.openMessage(U, 'INBOX', uids[0]), code('NOT_FOUND'));
    assert.equal(await s.mail.getIndex(U, 'INBOX', uids[0]), undefined);
  });

  it('publishes every mutation on the change feed with growing modseqs', async () => {
    const seen: MailChange[] = [];
    const stop = s.mail.watch(U, 'INBOX', (c) => seen.push(c));
    const { uid } = await s.mail.append(U, 'INBOX', msg('a'));
    await s.mail.updateFlags(U, 'INBOX', [uid], 'set', ['\\Deleted']);
    await s.mail.expunge(U, 'INBOX');
    stop();
    await s.mail.append(U, 'INBOX', msg('b'));
    assert.deepEqual(
      seen.map((c) => c.kind),
      ['new', 'flags', 'expunge'],
    );
    const modseqs = seen.map((c) => ('modseq' in c ? c.modseq : 0));
    assert.deepEqual(
      [...modseqs].sort((x, y) => x - y),
      modseqs,
    );
    assert.equal(new Set(modseqs).size, 3);
  });

  it('deliver is all-or-nothing: an unknown target fails before anything is written', async () => {
    await assert.rejects(
      s.mail.deliver([{ user: U }, { user: 'nobody@example.com' }], msg('x')),
      code('NOT_FOUND'),
    );
    assert.deepEqual(await s.mail.list(U, 'INBOX'), []);
  });

  it('queue: enqueue, claim with a lease, defer, expired leases, complete', async () => {
    const id = await s.queue.enqueue({ from: '', to: ['a@x.test', 'b@x.test'] }, msg('q'));
    const t0 = new Date();
    const [item] = await s.queue.claim(10, 60_000, t0);
    assert.equal(item.id, id);
    assert.equal(item.state, 'leased');
    assert.deepEqual(await s.queue.claim(10, 60_000, t0), [], 'leased items are not claimed twice');
    assert.equal(
      (await s.queue.claim(10, 60_000, new Date(t0.getTime() + 61_000))).length,
      1,
      'expired lease',
    );
    await s.queue.defer(id, new Date(t0.getTime() + 3_600_000), '451 later', ['b@x.test']);
    const deferred = await s.queue.get(id);
    assert.deepEqual(deferred?.pending, ['b@x.test']);
    assert.equal(deferred?.attempts, 1);
    assert.equal(deferred?.lastError, '451 later');
    assert.deepEqual(await s.queue.claim(10, 1000, t0), []);
    assert.equal(await s.queue.flush(), 1);
    assert.equal((await s.queue.claim(10, 1000)).length, 1);
    await s.queue.complete(id);
    assert.equal(await s.queue.get(id), undefined);
    await assert.rejects(s.queue.openMessage('../../accounts'), code('NOT_FOUND'));
  });
  it('an index read again is that of the message now at the UID, after the user was deleted and added again', async () => {
    const date = new Date('2026-11-23T08:00:00Z');
    await s.mail.append(U, 'INBOX', msg('AAA'), { internalDate: date });
    assert.equal((await s.mail.getIndex(U, 'INBOX', 1))?.envelope.subject, 'AAA');
    assert.equal(await s.accounts.deleteUser(U), true);
    await s.accounts.addUser(U, 'pw');
    await s.mail.append(U, 'INBOX', msg('BBB'), { internalDate: new Date(date.getTime() + 1000) });
    assert.equal((await s.mail.getIndex(U, 'INBOX', 1))?.envelope.subject, 'BBB');
    // The same index twice, and none for a UID that is gone.
    assert.deepEqual(await s.mail.getIndex(U, 'INBOX', 1), await s.mail.getIndex(U, 'INBOX', 1));
    await s.mail.updateFlags(U, 'INBOX', [1], 'add', ['\\Deleted']);
    await s.mail.expunge(U, 'INBOX');
    assert.equal(await s.mail.getIndex(U, 'INBOX', 1), undefined);
  });
});
