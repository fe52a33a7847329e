/**
 * Wildmats (RFC 3977 §4) come from anonymous clients: the linear-time matcher against a naive
 * reference, and a backtracking-hostile LIST ACTIVE over a socket that must neither stall the
 * server nor keep another client waiting.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileWildmat } from '../src/wildmat.js';
import { NntpTestClient } from './client.js';
import { disposeStores, makeStore, startRig } from './harness.js';

/** The reference: one wildmat-pattern by exhaustive backtracking over code points. */
function naive(pattern: string[], name: string[]): boolean {
  if (pattern.length === 0) return name.length === 0;
  const [p, ...rest] = pattern;
  if (p === '*') return name.some((_, i) => naive(rest, name.slice(i))) || naive(rest, []);
  return name.length > 0 && (p === '?' || p === name[0]) && naive(rest, name.slice(1));
}

/** RFC 3977 §4.2: the last pattern that matches decides. */
function naiveWildmat(items: Array<{ negated: boolean; pattern: string[] }>, name: string[]): boolean {
  for (let i = items.length - 1; i >= 0; i--) {
    if (naive(items[i].pattern, name)) return !items[i].negated;
  }
  return false;
}

describe('wildmat matching without backtracking', () => {
  afterEach(() => disposeStores());

  it('agrees with the naive reference on small wildmats and names', () => {
    const pattern = fc.array(fc.constantFrom('a', 'b', '.', '*', '?', 'ü'), { minLength: 1, maxLength: 7 });
    const item = fc.record({ negated: fc.boolean(), pattern });
    const name = fc.array(fc.constantFrom('a', 'b', '.', 'ü'), { maxLength: 10 });
    fc.assert(
      fc.property(fc.array(item, { minLength: 1, maxLength: 3 }), name, (items, n) => {
        const text = items.map((i) => (i.negated ? '!' : '') + i.pattern.join('')).join(',');
        assert.equal(compileWildmat(text)!(n.join('')), naiveWildmat(items, n));
      }),
      { numRuns: 5000 },
    );
  });

  it('answers the pathological wildmat of issue 19 at once', () => {
    const name = 'local.' + 'a'.repeat(500);
    assert.equal(compileWildmat('*?'.repeat(50) + '*Z')!(name), false);
    assert.equal(compileWildmat('*a'.repeat(100) + '*')!(name), true);
  });

  it('answers a hostile LIST ACTIVE promptly while another client is served', async function () {
    // A backtracking RegExp takes tens of seconds here (and the "*?" × 7 longer still);
    // the bound below only tells "answered" from "stalled".
    this.timeout(180_000);
    const store = await makeStore();
    const long = 'local.' + 'a'.repeat(100);
    await store.news.createGroup(long, { description: 'long' });
    const rig = await startRig({ store });
    const a = await NntpTestClient.connect(rig.port);
    const b = await NntpTestClient.connect(rig.port);
    try {
      assert.match(await a.readLine(), /^20[01] /);
      assert.match(await b.readLine(), /^20[01] /);
      const started = Date.now();
      a.send(`LIST ACTIVE ${'*?'.repeat(5)}*Z\r\n`);
      assert.match(await b.command('DATE'), /^111 /);
      assert.equal(await a.readLine(), '215 List of newsgroups follows');
      assert.deepEqual(await a.readBlock(), []);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      const found = await a.commandBlock(`LIST ACTIVE ${'*?'.repeat(7)}*a`);
      assert.deepEqual(found.lines, [`${long} 0 1 y`]);
    } finally {
      a.destroy();
      b.destroy();
      await rig.close();
    }
  });
});
