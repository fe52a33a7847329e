import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import type { MailChange } from '../../src/types.js';
import { type Ctx, U, V, code, collector, msg } from './context.js';

export function mailConformance(ctx: () => Ctx): void {
  describe('mail', () => {
    it('a new user has INBOX and the special-use mailboxes', async () => {
      const { s } = ctx();
      const boxes = await s.mail.listMailboxes(U);
      const names = boxes.map((b) => b.name);
      for (const n of ['INBOX', 'Sent', 'Drafts', 'Trash', 'Junk']) assert.ok(names.includes(n), n);
      assert.equal(boxes.find((b) => b.name === 'Sent')?.specialUse, '\\Sent');
      assert.equal(boxes.find((b) => b.name === 'Junk')?.specialUse, '\\Junk');
      assert.equal((await s.mail.getMailbox(U, 'inbox'))?.name, 'INBOX', 'INBOX is case-insensitive');
    });

    it('append, list, read back with byte ranges, and the index built at delivery', async () => {
      const { s } = ctx();
      const r = await s.mail.append(U, 'INBOX', msg('hello'), { flags: ['\\Seen', '\\Recent', '\\seen'] });
      assert.equal(r.uid, 1);
      assert.equal(r.uidValidity, (await s.mail.getMailbox(U, 'INBOX'))?.uidValidity);
      const [m] = await s.mail.list(U, 'INBOX');
      assert.deepEqual(m!.flags, ['\\Seen'], '\\Recent never stored, duplicates dropped');
      assert.equal(m!.size, Buffer.byteLength(msg('hello')));
      assert.equal(m!.modseq, r.modseq);
      assert.equal(await text(await s.mail.openMessage(U, 'INBOX', 1)), msg('hello'));
      assert.equal(await text(await s.mail.openMessage(U, 'INBOX', 1, { start: 0, end: 7 })), 'Subject');
      assert.equal(
        await text(await s.mail.openMessage(U, 'INBOX', 1, { start: 9, end: 1e9 })),
        msg('hello').slice(9),
      );
      const idx = await s.mail.getIndex(U, 'INBOX', 1);
      assert.equal(idx?.envelope.subject, 'hello');
      assert.equal(idx?.size, m!.size);
      assert.equal(await s.mail.getIndex(U, 'INBOX', 99), undefined);
      const info = await s.mail.getMailbox(U, 'INBOX');
      assert.deepEqual([info?.messages, info?.unseen, info?.uidNext], [1, 0, 2]);
      assert.equal(info?.highestModseq, r.modseq);
      const d = new Date('2021-05-06T07:08:09Z');
      const r2 = await s.mail.append(U, 'INBOX', Buffer.from(msg('two')), { internalDate: d });
      assert.equal(
        (await s.mail.list(U, 'INBOX', { start: r2.uid, end: Infinity }))[0]!.internalDate.getTime(),
        d.getTime(),
      );
      await assert.rejects(s.mail.append(U, 'Nope', msg('x')), code('NOT_FOUND'));
    });

    it('list by UID range', async () => {
      const { s } = ctx();
      for (const x of ['a', 'b', 'c', 'd']) await s.mail.append(U, 'INBOX', msg(x));
      const uids = async (start: number, end: number) =>
        (await s.mail.list(U, 'INBOX', { start, end })).map((m) => m.uid);
      assert.deepEqual(await uids(2, 3), [2, 3]);
      assert.deepEqual(await uids(3, Infinity), [3, 4]);
      assert.deepEqual(await uids(9, Infinity), []);
    });

    it('deliver writes one message to several users at once, and is all-or-nothing', async () => {
      const { s } = ctx();
      await s.mail.createMailbox(V, 'Lists');
      const out = await s.mail.deliver(
        [{ user: U }, { user: V, mailbox: 'Lists', flags: ['$Label'] }],
        msg('both'),
      );
      assert.deepEqual(
        out.map((o) => [o.user, o.mailbox, o.uid]),
        [
          [U, 'INBOX', 1],
          [V, 'Lists', 1],
        ],
      );
      assert.deepEqual((await s.mail.list(V, 'Lists'))[0]!.flags, ['$Label']);
      await assert.rejects(
        s.mail.deliver([{ user: U }, { user: 'nobody@example.com' }], msg('x')),
        code('NOT_FOUND'),
      );
      assert.equal((await s.mail.list(U, 'INBOX')).length, 1);
    });

    it('copy and move keep content, flags and dates, with a UID map', async () => {
      const { s } = ctx();
      await s.mail.createMailbox(U, 'Dest');
      const date = new Date('2020-01-02T03:04:05Z');
      const a = await s.mail.append(U, 'INBOX', msg('a'), { flags: ['\\Flagged'], internalDate: date });
      const b = await s.mail.append(U, 'INBOX', msg('b'));
      const copied = await s.mail.copy(U, 'INBOX', [a.uid, 999], 'Dest');
      assert.deepEqual(copied.map, [[a.uid, 1]]);
      assert.equal(copied.uidValidity, (await s.mail.getMailbox(U, 'Dest'))?.uidValidity);
      const [c] = await s.mail.list(U, 'Dest');
      assert.deepEqual(c!.flags, ['\\Flagged']);
      assert.equal(c!.internalDate.getTime(), date.getTime());
      assert.deepEqual((await s.mail.getIndex(U, 'Dest', 1))?.envelope.subject, 'a');
      assert.deepEqual((await s.mail.move(U, 'INBOX', [b.uid, a.uid], 'Dest')).map, [
        [a.uid, 2],
        [b.uid, 3],
      ]);
      assert.deepEqual(await s.mail.list(U, 'INBOX'), []);
      assert.equal(await text(await s.mail.openMessage(U, 'Dest', 3)), msg('b'));
      await assert.rejects(s.mail.copy(U, 'INBOX', [1], 'Nope'), code('NOT_FOUND'));
    });

    it('move into the same mailbox gives new UIDs and removes the old ones (RFC 6851)', async () => {
      const { s } = ctx();
      const a = await s.mail.append(U, 'INBOX', msg('a'), { flags: ['\\Flagged'] });
      const b = await s.mail.append(U, 'INBOX', msg('b'));
      assert.deepEqual((await s.mail.copy(U, 'INBOX', [b.uid], 'INBOX')).map, [[b.uid, b.uid + 1]]);
      assert.deepEqual((await s.mail.move(U, 'INBOX', [a.uid], 'INBOX')).map, [[a.uid, b.uid + 2]]);
      const left = await s.mail.list(U, 'INBOX');
      assert.deepEqual(
        left.map((m) => [m.uid, m.flags]),
        [
          [b.uid, []],
          [b.uid + 1, []],
          [b.uid + 2, ['\\Flagged']],
        ],
      );
      assert.equal(await text(await s.mail.openMessage(U, 'INBOX', b.uid + 2)), msg('a'));
    });

    it('mailbox create, rename (with children, and INBOX), delete; UIDVALIDITY rules', async () => {
      const { s } = ctx();
      await s.mail.createMailbox(U, 'Work');
      await s.mail.createMailbox(U, 'Work/2026');
      await assert.rejects(s.mail.createMailbox(U, 'Work'), code('EXISTS'));
      const before = await s.mail.getMailbox(U, 'Work/2026');
      await s.mail.renameMailbox(U, 'Work', 'Jobs');
      assert.equal(await s.mail.getMailbox(U, 'Work/2026'), undefined);
      assert.equal((await s.mail.getMailbox(U, 'Jobs/2026'))?.uidValidity, before?.uidValidity);
      await assert.rejects(s.mail.renameMailbox(U, 'Nope', 'Other'), code('NOT_FOUND'));
      await assert.rejects(s.mail.renameMailbox(U, 'Jobs', 'Sent'), code('EXISTS'));
      await s.mail.deleteMailbox(U, 'Jobs/2026');
      await assert.rejects(s.mail.deleteMailbox(U, 'Jobs/2026'), code('NOT_FOUND'));
      await assert.rejects(s.mail.deleteMailbox(U, 'INBOX'), code('INVALID_NAME'));
      // RFC 3501 §2.3.1.1: a mailbox created again under an old name gets a new UIDVALIDITY.
      const again = await s.mail.createMailbox(U, 'Jobs/2026');
      assert.notEqual(again.uidValidity, before?.uidValidity);
      await s.mail.append(U, 'inbox', msg('x'));
      await s.mail.renameMailbox(U, 'INBOX', 'Old');
      assert.equal((await s.mail.getMailbox(U, 'INBOX'))?.messages, 0);
      assert.equal((await s.mail.getMailbox(U, 'Old'))?.messages, 1);
      await s.mail.setSubscribed(U, 'Old', false);
      assert.equal((await s.mail.getMailbox(U, 'Old'))?.subscribed, false);
      await s.mail.setSubscribed(U, 'Old', true);
      assert.equal((await s.mail.getMailbox(U, 'Old'))?.subscribed, true);
    });

    it('keeps the subscription of a deleted mailbox until it is unsubscribed (RFC 3501 §6.3.6)', async () => {
      const { s } = ctx();
      const subs = async () => (await s.mail.listSubscriptions(U)).filter((n) => n.startsWith('S/')).sort();
      // Provisioned mailboxes are subscribed, created ones are not (RFC 3501 §6.3.3).
      assert.equal((await s.mail.getMailbox(U, 'INBOX'))?.subscribed, true);
      assert.ok((await s.mail.listSubscriptions(U)).includes('INBOX'));
      for (const n of ['S/kept', 'S/dropped', 'S/plain']) await s.mail.createMailbox(U, n);
      assert.equal((await s.mail.getMailbox(U, 'S/plain'))?.subscribed, false);
      assert.deepEqual(await subs(), []);
      await s.mail.setSubscribed(U, 'S/kept', true);
      await s.mail.setSubscribed(U, 'S/dropped', true);
      assert.deepEqual(await subs(), ['S/dropped', 'S/kept']);
      await s.mail.deleteMailbox(U, 'S/kept');
      await s.mail.deleteMailbox(U, 'S/dropped');
      await s.mail.deleteMailbox(U, 'S/plain');
      assert.deepEqual(await subs(), ['S/dropped', 'S/kept']);
      assert.equal(await s.mail.getMailbox(U, 'S/kept'), undefined);
      await s.mail.setSubscribed(U, 'S/dropped', false);
      assert.deepEqual(await subs(), ['S/kept']);
      await assert.rejects(s.mail.setSubscribed(U, 'S/dropped', false), code('NOT_FOUND'));
      await assert.rejects(s.mail.setSubscribed(U, 'S/plain', true), code('NOT_FOUND'));
      // Created again, the name is one subscription, not two.
      await s.mail.createMailbox(U, 'S/kept');
      assert.equal((await s.mail.getMailbox(U, 'S/kept'))?.subscribed, true);
      assert.deepEqual(await subs(), ['S/kept']);
      await s.mail.setSubscribed(U, 'S/kept', false);
      assert.deepEqual(await subs(), []);
    });

    it('flags: set, add, remove; CONDSTORE unchangedSince and changedSince', async () => {
      const { s } = ctx();
      const a = await s.mail.append(U, 'INBOX', msg('a'));
      const b = await s.mail.append(U, 'INBOX', msg('b'));
      const seenAt = (await s.mail.updateFlags(U, 'INBOX', [a.uid], 'add', ['\\Seen'])).updated[0]!.modseq;
      assert.ok(seenAt > b.modseq);
      const r2 = await s.mail.updateFlags(U, 'INBOX', [a.uid, b.uid], 'add', ['$X'], {
        unchangedSince: b.modseq,
      });
      assert.deepEqual(r2.failed, [a.uid]);
      assert.deepEqual(
        (await s.mail.list(U, 'INBOX', undefined, { changedSince: seenAt })).map((m) => m.uid),
        [b.uid],
      );
      assert.equal((await s.mail.getMailbox(U, 'INBOX'))?.highestModseq, r2.updated[0]!.modseq);
      await s.mail.updateFlags(U, 'INBOX', [a.uid], 'set', ['\\Answered', '$Y']);
      await s.mail.updateFlags(U, 'INBOX', [a.uid], 'remove', ['$y']);
      assert.deepEqual((await s.mail.list(U, 'INBOX', { start: a.uid, end: a.uid }))[0]!.flags, [
        '\\Answered',
      ]);
      assert.equal((await s.mail.getMailbox(U, 'INBOX'))?.unseen, 2);
    });

    it('expunge removes only \\Deleted messages and UIDs are never reused', async () => {
      const { s } = ctx();
      const uids: number[] = [];
      for (const x of ['a', 'b', 'c']) uids.push((await s.mail.append(U, 'INBOX', msg(x))).uid);
      await s.mail.updateFlags(U, 'INBOX', uids, 'add', ['\\Deleted']);
      assert.deepEqual(await s.mail.expunge(U, 'INBOX', [uids[0]!]), [uids[0]]);
      assert.deepEqual(await s.mail.expunge(U, 'INBOX'), [uids[1], uids[2]]);
      assert.deepEqual(await s.mail.expunge(U, 'INBOX'), []);
      assert.equal((await s.mail.append(U, 'INBOX', msg('d'))).uid, uids[2]! + 1);
      await assert.rejects(s.mail.openMessage(U, 'INBOX', uids[0]!), code('NOT_FOUND'));
    });

    it('the change feed reaches a watcher of another session, every change with a growing modseq', async () => {
      const { s, s2 } = ctx();
      const seen = collector<MailChange>();
      const stop = s2.mail.watch(U, 'INBOX', seen.push);
      const { uid } = await s.mail.append(U, 'INBOX', msg('a'));
      await s.mail.updateFlags(U, 'INBOX', [uid], 'set', ['\\Deleted']);
      await s.mail.expunge(U, 'INBOX');
      await seen.until(3);
      stop();
      assert.deepEqual(
        seen.items.map((c) => c.kind),
        ['new', 'flags', 'expunge'],
      );
      const modseqs = seen.items.map((c) => ('modseq' in c ? c.modseq : 0));
      assert.deepEqual(
        [...modseqs].sort((x, y) => x - y),
        modseqs,
      );
      assert.equal(new Set(modseqs).size, 3);
    });

    it('a listener that throws breaks neither the write nor other listeners', async () => {
      const { s } = ctx();
      const ok = collector<MailChange>();
      const stopBad = s.mail.watch(U, 'INBOX', () => {
        throw new Error('broken session');
      });
      const stopOk = s.mail.watch(U, 'INBOX', ok.push);
      const onWarning = () => {};
      process.on('warning', onWarning);
      try {
        const r = await s.mail.append(U, 'INBOX', msg('a'));
        assert.equal(r.uid, 1);
        await ok.until(1);
      } finally {
        process.off('warning', onWarning);
        stopBad();
        stopOk();
      }
    });

    it('concurrent appends, from one handle and from two, get distinct increasing UIDs', async () => {
      const { s, s2 } = ctx();
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) => (i % 2 ? s2 : s).mail.append(U, 'INBOX', msg(`c${i}`))),
      );
      const uids = results.map((r) => r.uid).sort((a, b) => a - b);
      assert.deepEqual(
        uids,
        Array.from({ length: 10 }, (_, i) => i + 1),
      );
      const listed = await s.mail.list(U, 'INBOX');
      assert.deepEqual(
        listed.map((m) => m.uid),
        uids,
      );
    });

    it('tryLock gives the maildrop to one holder at a time', async () => {
      const { s, s2 } = ctx();
      const lock = await s.mail.tryLock(U, 'INBOX');
      assert.ok(lock);
      assert.equal(await s2.mail.tryLock(U, 'INBOX'), undefined);
      const other = await s2.mail.tryLock(V, 'INBOX');
      assert.ok(other, 'another user’s maildrop is independent');
      await lock.release();
      const again = await s2.mail.tryLock(U, 'INBOX');
      assert.ok(again);
      await again.release();
      await other.release();
    });
  });
}
