import assert from 'node:assert/strict';
import { matchGlob, type GlobToken } from '../src/linear-glob.js';

const run: GlobToken = { kind: 'run' };
const chars = (s: string): GlobToken[] => [...s].map((ch) => ({ kind: 'char', ch }));

describe('matchGlob (linear-time glob for client patterns)', () => {
  it('matches runs (empty ones too), single code points and literals over the whole name', () => {
    assert.equal(matchGlob([run], ''), true);
    assert.equal(matchGlob([...chars('a'), run, ...chars('c')], 'abbbc'), true);
    assert.equal(matchGlob([...chars('a'), run, ...chars('c')], 'abbbcd'), false);
    assert.equal(matchGlob([...chars('a'), { kind: 'one' }], 'aé'), true);
    assert.equal(matchGlob([...chars('a'), { kind: 'one' }], 'a'), false);
  });

  it('never lets a run cross its excepted code point', () => {
    const pct: GlobToken[] = [...chars('a'), { kind: 'run', except: '/' }];
    assert.equal(matchGlob(pct, 'abc'), true);
    assert.equal(matchGlob(pct, 'ab/c'), false);
    assert.equal(matchGlob([...pct, ...chars('/'), run], 'ab/c'), true);
  });

  it('answers a backtracking-hostile pattern against a long name', () => {
    const hostile = [...Array.from({ length: 20 }, () => [run, ...chars('a')]).flat(), run, ...chars('b')];
    assert.equal(matchGlob(hostile, 'a'.repeat(5000)), false);
  });
});
