import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import type { NewsChange } from '../../src/types.js';
import { type Ctx, code, collector } from './context.js';

const article = (id: string, subject: string) =>
  `Subject: ${subject}\r\nFrom: a@x\r\nMessage-ID: ${id}\r\nReferences: <r1@x>\r\n\r\nbody of ${subject}\r\n`;

export function newsConformance(ctx: () => Ctx): void {
  describe('news', () => {
    it('groups: create, update, list, find by mail address, delete', async () => {
      const { s } = ctx();
      const g = await s.news.createGroup('comp.a', { description: 'A', mailAddress: 'a@example.com' });
      assert.deepEqual(
        [g.name, g.description, g.posting, g.count, g.high, g.low],
        ['comp.a', 'A', 'y', 0, 0, 1],
      );
      await assert.rejects(s.news.createGroup('comp.a'), code('EXISTS'));
      await s.news.createGroup('comp.b', { posting: 'm' });
      const u = await s.news.updateGroup('comp.b', {
        description: 'B',
        posting: 'n',
        mailAddress: 'b@example.com',
      });
      assert.deepEqual([u.description, u.posting, u.mailAddress], ['B', 'n', 'b@example.com']);
      assert.deepEqual(
        (await s.news.listGroups()).map((x) => x.name),
        ['comp.a', 'comp.b'],
      );
      assert.equal((await s.news.groupByMailAddress('A@EXAMPLE.COM'))?.name, 'comp.a');
      assert.equal(await s.news.groupByMailAddress('z@example.com'), undefined);
      assert.ok(await s.news.deleteGroup('comp.b'));
      assert.ok(!(await s.news.deleteGroup('comp.b')));
      assert.equal(await s.news.getGroup('comp.b'), undefined);
      await assert.rejects(s.news.updateGroup('comp.b', { description: 'x' }), code('NOT_FOUND'));
    });

    it('a cross-post is stored once and numbered in each group; Message-ID index; duplicates', async () => {
      const { s } = ctx();
      await s.news.createGroup('comp.a');
      await s.news.createGroup('comp.b');
      await s.news.post(['comp.b'], '<first@x>', article('<first@x>', 'first'));
      const refs = await s.news.post(
        ['comp.a', 'comp.b'],
        '<cross@x>',
        'Subject: cross\r\nFrom: a@x\r\n\r\nbody\r\n',
      );
      assert.deepEqual(
        refs.map((r) => [r.group, r.number]),
        [
          ['comp.a', 1],
          ['comp.b', 2],
        ],
      );
      await assert.rejects(s.news.post(['comp.a'], '<cross@x>', 'x'), code('DUPLICATE'));
      await assert.rejects(s.news.post(['no.such'], '<n@x>', 'x'), code('NOT_FOUND'));
      assert.ok(await s.news.hasMessageId('<cross@x>'));
      assert.ok(!(await s.news.hasMessageId('<none@x>')));
      assert.equal((await s.news.articleByNumber('comp.b', 2))?.messageId, '<cross@x>');
      assert.equal(await s.news.articleByNumber('comp.b', 3), undefined);
      const byId = await s.news.articleById('<cross@x>');
      assert.ok(byId && ['comp.a', 'comp.b'].includes(byId.group));
      assert.equal(byId.size, Buffer.byteLength('Subject: cross\r\nFrom: a@x\r\n\r\nbody\r\n'));
      assert.equal((await s.news.getIndex('<first@x>'))?.envelope.subject, 'first');
      assert.equal(await s.news.getIndex('<none@x>'), undefined);
      assert.equal(await text(await s.news.openArticle('<first@x>', { start: 0, end: 7 })), 'Subject');
      assert.equal(await text(await s.news.openArticle('<first@x>')), article('<first@x>', 'first'));
      await assert.rejects(s.news.openArticle('<none@x>'), code('NOT_FOUND'));
      const g = await s.news.getGroup('comp.b');
      assert.deepEqual([g?.low, g?.high, g?.count], [1, 2, 2]);
    });

    it('two concurrent posts of one Message-ID: exactly one wins', async () => {
      const { s, s2 } = ctx();
      await s.news.createGroup('comp.a');
      const results = await Promise.allSettled([
        s.news.post(['comp.a'], '<race@x>', article('<race@x>', 'one')),
        s2.news.post(['comp.a'], '<race@x>', article('<race@x>', 'two')),
      ]);
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      const lost = results.find((r) => r.status === 'rejected');
      assert.ok(lost && code('DUPLICATE')(lost.reason));
      assert.equal((await s.news.getGroup('comp.a'))?.count, 1);
    });

    it('numbers and overview over ranges; articlesSince', async () => {
      const { s } = ctx();
      await s.news.createGroup('comp.a');
      await s.news.createGroup('misc.b');
      for (let i = 1; i <= 5; i++)
        await s.news.post(['comp.a'], `<n${i}@x>`, article(`<n${i}@x>`, `s${i}\tTab`));
      await s.news.post(['misc.b'], '<m@x>', article('<m@x>', 'm'));
      assert.deepEqual(await s.news.numbers('comp.a', 2, 4), [2, 3, 4]);
      assert.deepEqual(await s.news.numbers('comp.a', 4, 100), [4, 5]);
      assert.deepEqual(await s.news.numbers('comp.a', 7, 9), []);
      const ov = await s.news.overview('comp.a', 3, 3);
      assert.equal(ov.length, 1);
      assert.equal(ov[0]!.number, 3);
      assert.equal(ov[0]!.overview.subject, 's3 Tab', 'RFC 3977 §8.3.1: TAB becomes a space');
      assert.equal(ov[0]!.overview.messageId, '<n3@x>');
      assert.equal(ov[0]!.overview.references, '<r1@x>');
      assert.equal(ov[0]!.overview.bytes, Buffer.byteLength(article('<n3@x>', 's3\tTab')));
      assert.equal(ov[0]!.overview.lines, 1);
      const since = await s.news.articlesSince(new Date(Date.now() - 3_600_000));
      assert.equal(since.length, 6);
      assert.deepEqual(
        await s.news.articlesSince(new Date(Date.now() - 3_600_000), (g) => g.startsWith('misc.')),
        ['<m@x>'],
      );
      assert.deepEqual(await s.news.articlesSince(new Date(Date.now() + 3_600_000)), []);
    });

    it('subscribers are kept per group, case-insensitively', async () => {
      const { s } = ctx();
      await s.news.createGroup('comp.a');
      await s.news.addSubscriber('comp.a', 'Reader@Remote.test');
      await s.news.addSubscriber('comp.a', 'reader@remote.test');
      assert.deepEqual(await s.news.listSubscribers('comp.a'), ['reader@remote.test']);
      assert.ok(await s.news.removeSubscriber('comp.a', 'READER@remote.test'));
      assert.ok(!(await s.news.removeSubscriber('comp.a', 'reader@remote.test')));
      assert.deepEqual(await s.news.listSubscribers('comp.a'), []);
    });

    it('the group feed reaches a watcher of another session', async () => {
      const { s, s2 } = ctx();
      await s.news.createGroup('comp.a');
      const changes = collector<NewsChange>();
      const stop = s2.news.watch('comp.a', changes.push);
      await s.news.post(['comp.a'], '<f1@x>', article('<f1@x>', 'one'));
      await s.news.post(['comp.a'], '<f2@x>', article('<f2@x>', 'two'));
      await changes.until(2);
      stop();
      assert.deepEqual(
        changes.items.map((c) => [c.kind, c.number, c.messageId]),
        [
          ['new', 1, '<f1@x>'],
          ['new', 2, '<f2@x>'],
        ],
      );
    });
  });
}
