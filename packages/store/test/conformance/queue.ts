import assert from 'node:assert/strict';
import { text } from 'node:stream/consumers';
import { type Ctx, code, msg } from './context.js';

export function queueConformance(ctx: () => Ctx): void {
  describe('queue', () => {
    it('enqueue, claim with a lease, defer, expired leases, fail, complete', async () => {
      const { s } = ctx();
      const dsn = { ret: 'HDRS' as const, envid: 'e1', notify: { 'a@x.test': ['FAILURE'] } };
      const id = await s.queue.enqueue({ from: '', to: ['a@x.test', 'b@x.test'], dsn }, msg('q'));
      const fresh = await s.queue.get(id);
      assert.deepEqual(
        [fresh?.state, fresh?.attempts, fresh?.pending, fresh?.size],
        ['queued', 0, ['a@x.test', 'b@x.test'], Buffer.byteLength(msg('q'))],
      );
      assert.deepEqual(fresh?.envelope.dsn, dsn);
      assert.equal(fresh?.envelope.from, '');
      const t0 = new Date(Date.now() + 1000);
      const [item] = await s.queue.claim(10, 60_000, t0);
      assert.equal(item?.id, id);
      assert.equal(item?.state, 'leased');
      assert.deepEqual(await s.queue.claim(10, 60_000, t0), [], 'leased items are not claimed twice');
      assert.equal(
        (await s.queue.claim(10, 60_000, new Date(t0.getTime() + 61_000))).length,
        1,
        'expired lease',
      );
      await s.queue.defer(id, new Date(t0.getTime() + 3_600_000), '451 later', ['b@x.test']);
      const deferred = await s.queue.get(id);
      assert.deepEqual(
        [deferred?.pending, deferred?.attempts, deferred?.lastError, deferred?.state],
        [['b@x.test'], 1, '451 later', 'queued'],
      );
      assert.deepEqual(await s.queue.claim(10, 1000, new Date(t0.getTime() + 1000)), [], 'not due yet');
      assert.equal(await s.queue.flush(), 1);
      assert.equal((await s.queue.claim(10, 1000, new Date(Date.now() + 1000))).length, 1);
      assert.equal(await text(await s.queue.openMessage(id)), msg('q'));
      await s.queue.complete(id);
      assert.equal(await s.queue.get(id), undefined);
      await assert.rejects(s.queue.openMessage(id), code('NOT_FOUND'));
      const f = await s.queue.enqueue({ from: 'x@y', to: ['z@w'] }, msg('f'));
      await s.queue.fail(f, '550 no');
      const failed = await s.queue.get(f);
      assert.deepEqual([failed?.state, failed?.lastError], ['failed', '550 no']);
      assert.deepEqual(
        await s.queue.claim(10, 1000, new Date(Date.now() + 3_600_000)),
        [],
        'failed items are not claimed',
      );
      assert.deepEqual(
        (await s.queue.list()).map((i) => i.id),
        [f],
      );
      assert.ok(await s.queue.delete(f));
      assert.ok(!(await s.queue.delete(f)));
      assert.deepEqual(await s.queue.list(), []);
    });

    it('claim honours its limit, and concurrent claims from two handles never share an item', async () => {
      const { s, s2 } = ctx();
      const ids = new Set<string>();
      for (let i = 0; i < 6; i++)
        ids.add(await s.queue.enqueue({ from: 'a@b', to: [`r${i}@x`] }, msg(`m${i}`)));
      const now = new Date(Date.now() + 1000);
      assert.equal((await s.queue.claim(2, 60_000, now)).length, 2);
      const [x, y] = await Promise.all([s.queue.claim(10, 60_000, now), s2.queue.claim(10, 60_000, now)]);
      const got = [...x!, ...y!].map((i) => i.id);
      assert.equal(got.length, 4);
      assert.equal(new Set(got).size, 4);
      for (const id of got) assert.ok(ids.has(id));
    });
  });
}
