/**
 * The store conformance suite: what every backend (memory, fs, later redis) must do, through
 * the interfaces only. Each backend's test file calls runStoreConformance with a factory.
 */
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { StoreError, type MailChange, type NewsChange, type Store } from '../src/types.js';

export type OpenStore = () => Promise<{ store: Store; cleanup(): Promise<void> }>;

const U = 'ann@example.com';
const V = 'bob@example.com';
const msg = (s: string): string => `Subject: ${s}\r\nMessage-ID: <${s}@example.com>\r\n\r\n${s}\r\n`;
const code = (c: string) => (e: unknown) => e instanceof StoreError && e.code === c;

export function runStoreConformance(name: string, open: OpenStore): void {
  describe(`store conformance: ${name}`, function () {
    this.timeout(30_000);
    let s: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store: s, cleanup } = await open());
      await s.accounts.addDomain('example.com');
      await s.accounts.addUser(U, 'ann-pw');
      await s.accounts.addUser(V, 'bob-pw');
    });
    afterEach(async () => {
      await s.close();
      await cleanup();
    });

    it('accounts: scrypt passwords, aliases, domains, duplicates refused', async () => {
      assert.ok(await s.accounts.verifyPassword(U, 'ann-pw'));
      assert.ok(!(await s.accounts.verifyPassword(U, 'wrong')));
      assert.ok(!(await s.accounts.verifyPassword('nobody@example.com', 'ann-pw')));
      await assert.rejects(s.accounts.addUser(U, 'x'), code('EXISTS'));
      await s.accounts.addAlias('sales@example.com', U);
      assert.equal(await s.accounts.resolve('SALES@Example.com'), U);
      assert.equal(await s.accounts.resolve('nobody@example.com'), undefined);
      assert.ok(await s.accounts.isLocalDomain('EXAMPLE.com'));
      assert.ok(!(await s.accounts.isLocalDomain('other.test')));
      await s.accounts.setPassword(U, 'new-pw');
      assert.ok(await s.accounts.verifyPassword(U, 'new-pw'));
      assert.deepEqual(await s.accounts.listUsers(), [U, V]);
      assert.ok(await s.accounts.deleteUser(V));
      assert.ok(!(await s.accounts.hasUser(V)));
    });

    it('a new user has INBOX and the special-use mailboxes', async () => {
      const boxes = await s.mail.listMailboxes(U);
      const names = boxes.map((b) => b.name);
      for (const n of ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk']) assert.ok(names.includes(n), n);
      assert.equal(boxes.find((b) => b.name === 'Sent')?.specialUse, '\\Sent');
    });

    it('append, list, read back with byte ranges, and the index built at delivery', async () => {
      const r = await s.mail.append(U, 'INBOX', msg('hello'), { flags: ['\\Seen'] });
      assert.equal(r.uid, 1);
      const [m] = await s.mail.list(U, 'INBOX');
      assert.deepEqual(m!.flags, ['\\Seen']);
      assert.equal(m!.size, Buffer.byteLength(msg('hello')));
      assert.equal(await text(await s.mail.openMessage(U, 'INBOX', 1)), msg('hello'));
      assert.equal(await text(await s.mail.openMessage(U, 'INBOX', 1, { start: 0, end: 7 })), 'Subject');
      const idx = await s.mail.getIndex(U, 'INBOX', 1);
      assert.equal(idx?.envelope.subject, 'hello');
      const info = await s.mail.getMailbox(U, 'INBOX');
      assert.equal(info?.messages, 1);
      assert.equal(info?.unseen, 0);
      assert.equal(info?.uidNext, 2);
    });

    it('deliver writes one message to several users at once, and is all-or-nothing', async () => {
      const out = await s.mail.deliver([{ user: U }, { user: V }], msg('both'));
      assert.equal(out.length, 2);
      assert.equal((await s.mail.list(V, 'INBOX')).length, 1);
      await assert.rejects(s.mail.deliver([{ user: U }, { user: 'nobody@example.com' }], msg('x')), code('NOT_FOUND'));
      assert.equal((await s.mail.list(U, 'INBOX')).length, 1);
    });

    it('copy and move keep content, flags and dates, with a UID map', async () => {
      await s.mail.createMailbox(U, 'Dest');
      const date = new Date('2020-01-02T03:04:05Z');
      const a = await s.mail.append(U, 'INBOX', msg('a'), { flags: ['\\Flagged'], internalDate: date });
      const b = await s.mail.append(U, 'INBOX', msg('b'));
      assert.deepEqual((await s.mail.copy(U, 'INBOX', [a.uid, 999], 'Dest')).map, [[a.uid, 1]]);
      const [c] = await s.mail.list(U, 'Dest');
      assert.deepEqual(c!.flags, ['\\Flagged']);
      assert.equal(c!.internalDate.getTime(), date.getTime());
      assert.deepEqual((await s.mail.move(U, 'INBOX', [a.uid, b.uid], 'Dest')).map, [[a.uid, 2], [b.uid, 3]]);
      assert.deepEqual(await s.mail.list(U, 'INBOX'), []);
      assert.equal(await text(await s.mail.openMessage(U, 'Dest', 3)), msg('b'));
    });

    it('mailbox create, rename (with children, and INBOX), delete; UIDVALIDITY rules', async () => {
      await s.mail.createMailbox(U, 'Work');
      await s.mail.createMailbox(U, 'Work/2026');
      await assert.rejects(s.mail.createMailbox(U, 'Work'), code('EXISTS'));
      const before = await s.mail.getMailbox(U, 'Work/2026');
      await s.mail.renameMailbox(U, 'Work', 'Jobs');
      assert.equal(await s.mail.getMailbox(U, 'Work/2026'), undefined);
      assert.equal((await s.mail.getMailbox(U, 'Jobs/2026'))?.uidValidity, before?.uidValidity);
      await s.mail.deleteMailbox(U, 'Jobs/2026');
      await assert.rejects(s.mail.deleteMailbox(U, 'Jobs/2026'), code('NOT_FOUND'));
      await assert.rejects(s.mail.deleteMailbox(U, 'INBOX'), code('INVALID_NAME'));
      await s.mail.append(U, 'inbox', msg('x'));
      await s.mail.renameMailbox(U, 'INBOX', 'Old');
      assert.equal((await s.mail.getMailbox(U, 'INBOX'))?.messages, 0);
      assert.equal((await s.mail.getMailbox(U, 'Old'))?.messages, 1);
      await s.mail.setSubscribed(U, 'Old', false);
      assert.equal((await s.mail.getMailbox(U, 'Old'))?.subscribed, false);
    });

    it('CONDSTORE: unchangedSince refuses changed messages, changedSince lists changes', async () => {
      const a = await s.mail.append(U, 'INBOX', msg('a'));
      const b = await s.mail.append(U, 'INBOX', msg('b'));
      const seenAt = (await s.mail.updateFlags(U, 'INBOX', [a.uid], 'add', ['\\Seen'])).updated[0]!.modseq;
      const r2 = await s.mail.updateFlags(U, 'INBOX', [a.uid, b.uid], 'add', ['$X'], { unchangedSince: b.modseq });
      assert.deepEqual(r2.failed, [a.uid]);
      assert.deepEqual((await s.mail.list(U, 'INBOX', undefined, { changedSince: seenAt })).map((m) => m.uid), [b.uid]);
      assert.equal((await s.mail.getMailbox(U, 'INBOX'))?.highestModseq, r2.updated[0]!.modseq);
    });

    it('expunge removes only \\Deleted messages and UIDs are never reused', async () => {
      const uids: number[] = [];
      for (const x of ['a', 'b', 'c']) uids.push((await s.mail.append(U, 'INBOX', msg(x))).uid);
      await s.mail.updateFlags(U, 'INBOX', uids, 'add', ['\\Deleted']);
      assert.deepEqual(await s.mail.expunge(U, 'INBOX', [uids[0]!]), [uids[0]]);
      assert.deepEqual(await s.mail.expunge(U, 'INBOX'), [uids[1], uids[2]]);
      assert.equal((await s.mail.append(U, 'INBOX', msg('d'))).uid, uids[2]! + 1);
      await assert.rejects(s.mail.openMessage(U, 'INBOX', uids[0]!), code('NOT_FOUND'));
    });

    it('the change feed reaches a watcher of another session, every change with a growing modseq', async () => {
      const seen: MailChange[] = [];
      const stop = s.mail.watch(U, 'INBOX', (c) => seen.push(c));
      const { uid } = await s.mail.append(U, 'INBOX', msg('a'));
      await s.mail.updateFlags(U, 'INBOX', [uid], 'set', ['\\Deleted']);
      await s.mail.expunge(U, 'INBOX');
      for (let i = 0; i < 50 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 20));
      stop();
      assert.deepEqual(seen.map((c) => c.kind), ['new', 'flags', 'expunge']);
      const modseqs = seen.map((c) => ('modseq' in c ? c.modseq : 0));
      assert.deepEqual([...modseqs].sort((x, y) => x - y), modseqs);
    });

    it('two concurrent appends to one mailbox get distinct, increasing UIDs', async () => {
      const results = await Promise.all(Array.from({ length: 10 }, (_, i) => s.mail.append(U, 'INBOX', msg(`c${i}`))));
      const uids = results.map((r) => r.uid).sort((a, b) => a - b);
      assert.deepEqual(uids, Array.from({ length: 10 }, (_, i) => i + 1));
    });

    it('one user never sees another user’s mailboxes; hostile names are refused', async () => {
      await s.mail.createMailbox(V, 'Private');
      assert.equal(await s.mail.getMailbox(U, 'Private'), undefined);
      assert.ok(!(await s.mail.listMailboxes(U)).some((b) => b.name === 'Private'));
      await assert.rejects(s.mail.list(U, 'Private'), code('NOT_FOUND'));
      for (const bad of ['a\0b', 'x\r\ny', '/abs', 'a//b']) await assert.rejects(s.mail.createMailbox(U, bad), code('INVALID_NAME'), JSON.stringify(bad));
      await assert.rejects(s.news.createGroup('../etc'), code('INVALID_NAME'));
      await assert.rejects(s.news.post(['x'], 'no-brackets', 'x'), code('INVALID_NAME'));
    });

    it('news: groups, a cross-post numbered in each group, Message-ID index, duplicates, overview, subscribers, feed', async () => {
      await s.news.createGroup('comp.a', { description: 'A', mailAddress: 'a@example.com' });
      await s.news.createGroup('comp.b');
      const changes: NewsChange[] = [];
      const stop = s.news.watch('comp.b', (c) => changes.push(c));
      await s.news.post(['comp.b'], '<first@x>', 'Subject: first\r\nFrom: a@x\r\nMessage-ID: <first@x>\r\n\r\nbody\r\n');
      const refs = await s.news.post(['comp.a', 'comp.b'], '<cross@x>', 'Subject: cross\r\nFrom: a@x\r\n\r\nbody\r\n');
      assert.deepEqual(refs.map((r) => [r.group, r.number]), [['comp.a', 1], ['comp.b', 2]]);
      await assert.rejects(s.news.post(['comp.a'], '<cross@x>', 'x'), code('DUPLICATE'));
      assert.ok(await s.news.hasMessageId('<cross@x>'));
      assert.equal((await s.news.articleByNumber('comp.b', 2))?.messageId, '<cross@x>');
      const [ov] = await s.news.overview('comp.a', 1, 1);
      assert.equal(ov!.overview.subject, 'cross');
      assert.equal(ov!.overview.messageId, '<cross@x>');
      assert.deepEqual(await s.news.numbers('comp.b', 1, 10), [1, 2]);
      const g = await s.news.getGroup('comp.b');
      assert.deepEqual([g?.low, g?.high, g?.count], [1, 2, 2]);
      assert.equal((await s.news.groupByMailAddress('A@EXAMPLE.COM'))?.name, 'comp.a');
      assert.equal(await text(await s.news.openArticle('<first@x>', { start: 0, end: 7 })), 'Subject');
      assert.deepEqual((await s.news.articlesSince(new Date(Date.now() - 60_000))).sort(), ['<cross@x>', '<first@x>']);
      await s.news.addSubscriber('comp.a', 'Reader@Remote.test');
      assert.deepEqual(await s.news.listSubscribers('comp.a'), ['reader@remote.test']);
      for (let i = 0; i < 50 && changes.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      stop();
      assert.deepEqual(changes.map((c) => c.number), [1, 2]);
    });

    it('queue: enqueue, claim with a lease, defer, expired leases, fail, complete', async () => {
      const id = await s.queue.enqueue({ from: '', to: ['a@x.test', 'b@x.test'] }, msg('q'));
      const t0 = new Date();
      const [item] = await s.queue.claim(10, 60_000, t0);
      assert.equal(item?.id, id);
      assert.deepEqual(await s.queue.claim(10, 60_000, t0), [], 'leased items are not claimed twice');
      assert.equal((await s.queue.claim(10, 60_000, new Date(t0.getTime() + 61_000))).length, 1, 'expired lease');
      await s.queue.defer(id, new Date(t0.getTime() + 3_600_000), '451 later', ['b@x.test']);
      const deferred = await s.queue.get(id);
      assert.deepEqual([deferred?.pending, deferred?.attempts, deferred?.lastError], [['b@x.test'], 1, '451 later']);
      assert.equal(await s.queue.flush(), 1);
      assert.equal((await s.queue.claim(10, 1000)).length, 1);
      assert.equal(await text(await s.queue.openMessage(id)), msg('q'));
      await s.queue.complete(id);
      assert.equal(await s.queue.get(id), undefined);
      const f = await s.queue.enqueue({ from: 'x@y', to: ['z@w'] }, msg('f'));
      await s.queue.fail(f, '550 no');
      assert.equal((await s.queue.get(f))?.state, 'failed');
      assert.ok(await s.queue.delete(f));
    });
  });
}
