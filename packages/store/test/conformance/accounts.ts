import assert from 'node:assert/strict';
import { type Ctx, U, V, code } from './context.js';

export function accountsConformance(ctx: () => Ctx): void {
  describe('accounts', () => {
    it('scrypt passwords, aliases, domains, duplicates refused', async () => {
      const { s } = ctx();
      assert.ok(await s.accounts.verifyPassword(U, 'ann-pw'));
      assert.ok(!(await s.accounts.verifyPassword(U, 'wrong')));
      assert.ok(!(await s.accounts.verifyPassword(U, '')));
      assert.ok(!(await s.accounts.verifyPassword('nobody@example.com', 'ann-pw')));
      await assert.rejects(s.accounts.addUser(U, 'x'), code('EXISTS'));
      await assert.rejects(
        s.accounts.addUser('ANN@example.COM', 'x'),
        code('EXISTS'),
        'addresses are case-insensitive',
      );
      await s.accounts.addAlias('sales@example.com', U);
      assert.equal(await s.accounts.resolve('SALES@Example.com'), U);
      assert.equal(await s.accounts.resolve('nobody@example.com'), undefined);
      assert.ok(await s.accounts.isLocalDomain('EXAMPLE.com'));
      assert.ok(!(await s.accounts.isLocalDomain('other.test')));
      await s.accounts.setPassword(U, 'new-pw');
      assert.ok(await s.accounts.verifyPassword(U, 'new-pw'));
      assert.ok(!(await s.accounts.verifyPassword(U, 'ann-pw')));
      await assert.rejects(s.accounts.setPassword('nobody@example.com', 'x'), code('NOT_FOUND'));
      assert.deepEqual(await s.accounts.listUsers(), [U, V]);
      assert.ok(await s.accounts.deleteUser(V));
      assert.ok(!(await s.accounts.deleteUser(V)));
      assert.ok(!(await s.accounts.hasUser(V)));
      assert.ok(await s.accounts.hasUser('Ann@Example.com'));
    });

    it('alias listing and removal, alias loops resolve to nobody', async () => {
      const { s } = ctx();
      await s.accounts.addAlias('b@example.com', 'a@example.com');
      await s.accounts.addAlias('a@example.com', 'b@example.com');
      assert.equal(await s.accounts.resolve('a@example.com'), undefined);
      await s.accounts.addAlias('info@example.com', V);
      assert.deepEqual(
        (await s.accounts.listAliases()).find((a) => a.alias === 'info@example.com'),
        { alias: 'info@example.com', target: V },
      );
      await assert.rejects(s.accounts.addAlias('info@example.com', U), code('EXISTS'));
      assert.ok(await s.accounts.removeAlias('info@example.com'));
      assert.ok(!(await s.accounts.removeAlias('info@example.com')));
      assert.equal(await s.accounts.resolve('info@example.com'), undefined);
    });

    it('domains are added, listed and removed, case-insensitively', async () => {
      const { s } = ctx();
      await s.accounts.addDomain('Mail.Example.NET');
      assert.ok((await s.accounts.listDomains()).includes('mail.example.net'));
      assert.ok(await s.accounts.isLocalDomain('mail.example.net'));
      assert.ok(await s.accounts.removeDomain('MAIL.example.net'));
      assert.ok(!(await s.accounts.isLocalDomain('mail.example.net')));
      assert.ok(!(await s.accounts.removeDomain('mail.example.net')));
    });

    it('a change from one handle is seen by the other', async () => {
      const { s, s2 } = ctx();
      await s.accounts.addUser('carol@example.com', 'c-pw');
      assert.ok(await s2.accounts.hasUser('carol@example.com'));
      assert.ok(await s2.accounts.verifyPassword('carol@example.com', 'c-pw'));
      assert.ok((await s2.mail.getMailbox('carol@example.com', 'INBOX')) !== undefined);
    });
  });
}
