/**
 * DESIGN.md security stance: client-chosen names never walk out of their place, and one user
 * never reads, lists or learns of another user's mailboxes. A backend may refuse a hostile
 * name (INVALID_NAME) or encode it; either way it must stay inside its owner's space.
 */
import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { type Ctx, U, V, code, msg, refusedOrAccepted } from './context.js';

export function safetyConformance(ctx: () => Ctx): void {
  describe('names and isolation', () => {
    it('one user never sees another user’s mailboxes or messages', async () => {
      const { s } = ctx();
      await s.mail.createMailbox(V, 'Private');
      const { uid } = await s.mail.append(V, 'Private', msg('secret'));
      await s.mail.append(V, 'INBOX', msg('secret-inbox'));
      assert.equal(await s.mail.getMailbox(U, 'Private'), undefined);
      assert.ok(!(await s.mail.listMailboxes(U)).some((b) => b.name === 'Private'));
      await assert.rejects(s.mail.list(U, 'Private'), code('NOT_FOUND'));
      await assert.rejects(s.mail.openMessage(U, 'Private', uid), code('NOT_FOUND'));
      assert.equal(await s.mail.getIndex(U, 'Private', uid), undefined);
      assert.deepEqual(await s.mail.list(U, 'INBOX'), [], 'INBOX is per user');
      await assert.rejects(s.mail.copy(U, 'Private', [uid], 'INBOX'), code('NOT_FOUND'));
      assert.deepEqual(await s.mail.listMailboxes('nobody@example.com'), []);
    });

    it('control characters and empty hierarchy levels are refused in mailbox names', async () => {
      const { s } = ctx();
      for (const bad of ['', 'a\0b', 'x\r\ny', 'tab\there', 'del\x7f', '/abs', 'trail/', 'a//b'])
        await assert.rejects(s.mail.createMailbox(U, bad), code('INVALID_NAME'), JSON.stringify(bad));
      await assert.rejects(s.mail.renameMailbox(U, 'Sent', 'a\0b'), code('INVALID_NAME'));
    });

    it('path-like mailbox names are refused or stay inside their owner’s space', async () => {
      const { s } = ctx();
      for (const name of ['..', '.', 'a/../../b', '../../' + V, '%2e%2e', 'C:\\x', '\u00e9t\u00e9']) {
        if ((await refusedOrAccepted(s.mail.createMailbox(U, name))) === 'refused') continue;
        const { uid } = await s.mail.append(U, name, msg('inside'));
        assert.equal(await text(await s.mail.openMessage(U, name, uid)), msg('inside'), name);
        assert.ok(
          (await s.mail.listMailboxes(U)).some((b) => b.name === name),
          name,
        );
        assert.ok(!(await s.mail.listMailboxes(V)).some((b) => b.name === name), name);
        assert.deepEqual(await s.mail.list(V, 'INBOX'), [], name);
      }
    });

    it('hostile user names are refused or isolated', async () => {
      const { s } = ctx();
      await assert.rejects(s.accounts.addUser('a\0b@example.com', 'x'), code('INVALID_NAME'));
      await assert.rejects(s.accounts.addUser('no-at-sign', 'x'), code('INVALID_NAME'));
      await assert.rejects(s.accounts.addUser('a\r\nb@example.com', 'x'), code('INVALID_NAME'));
      for (const user of ['../../' + U, '..@example.com', 'a/b@example.com', '%2e%2e@example.com']) {
        if ((await refusedOrAccepted(s.accounts.addUser(user, 'pw'))) === 'refused') continue;
        await s.mail.append(user, 'INBOX', msg('mine'));
        assert.equal((await s.mail.list(user, 'INBOX')).length, 1, user);
        assert.deepEqual(await s.mail.list(U, 'INBOX'), [], user);
        assert.ok(await s.accounts.verifyPassword(user, 'pw'));
        assert.ok(!(await s.accounts.verifyPassword(U, 'pw')));
      }
    });

    it('group names and Message-IDs are checked; path-like Message-IDs stay keys', async () => {
      const { s } = ctx();
      for (const bad of ['../etc', 'a..b', '.a', 'a/b', 'a\0b', ''])
        await assert.rejects(s.news.createGroup(bad), code('INVALID_NAME'), JSON.stringify(bad));
      await s.news.createGroup('comp.a');
      for (const bad of ['no-brackets', '<a b@x>', '<a\0b@x>', '<>'])
        await assert.rejects(s.news.post(['comp.a'], bad, 'x'), code('INVALID_NAME'), JSON.stringify(bad));
      const id = '<../../../etc/passwd@x>';
      if (
        (await refusedOrAccepted(s.news.post(['comp.a'], id, 'Subject: walk\r\n\r\nx\r\n'))) === 'accepted'
      ) {
        assert.equal((await s.news.getIndex(id))?.envelope.subject, 'walk');
        assert.ok(!(await s.news.hasMessageId('<etc/passwd@x>')));
      }
    });
  });
}
