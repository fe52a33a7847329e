import assert from 'node:assert/strict';
import { nobleProvider, nodeProvider } from '../src/crypto/default-provider.js';

describe('crypto providers: randomBytes', () => {
  for (const provider of [nodeProvider, nobleProvider]) {
    it(`${provider.name}: small draws never repeat or overlap, across pool refills`, () => {
      // 12-byte draws, 3000 of them: the node provider's 4 KiB pool is refilled several times.
      const seen = new Set<string>();
      for (let i = 0; i < 3000; i++) {
        const b = provider.randomBytes(12);
        assert.equal(b.length, 12);
        const hex = Buffer.from(b).toString('hex');
        assert.notEqual(hex, '00'.repeat(12), 'a draw of zeros: bytes handed out after being wiped');
        assert.ok(!seen.has(hex), `draw ${i} repeats an earlier one`);
        seen.add(hex);
      }
    });

    it(`${provider.name}: a draw is the caller's own: changing it changes no other draw`, () => {
      const a = provider.randomBytes(32);
      const b = provider.randomBytes(32);
      const before = Buffer.from(b);
      a.fill(0xff);
      assert.deepEqual(Buffer.from(b), before);
      assert.equal(provider.randomBytes(0).length, 0);
      assert.equal(provider.randomBytes(4096).length, 4096);
    });
  }
});
