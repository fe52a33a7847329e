import assert from 'node:assert/strict';
import { compileWildmat } from '../src/wildmat.js';

describe('wildmat (RFC 3977 §4)', () => {
  it('matches * and ? and exact text', () => {
    const m = compileWildmat('comp.*')!;
    assert.equal(m('comp.lang.c'), true);
    assert.equal(m('comp'), false);
    assert.equal(m('rec.comp.x'), false);
    const q = compileWildmat('a?c')!;
    assert.equal(q('abc'), true);
    assert.equal(q('ac'), false);
  });

  it('lets the last matching pattern decide (§4.2)', () => {
    const m = compileWildmat('comp.*,!comp.private.*,comp.private.ok')!;
    assert.equal(m('comp.lang'), true);
    assert.equal(m('comp.private.x'), false);
    assert.equal(m('comp.private.ok'), true);
    assert.equal(m('alt.x'), false);
  });

  it('treats regular-expression characters literally', () => {
    const m = compileWildmat('a.b+c')!;
    assert.equal(m('a.b+c'), true);
    assert.equal(m('axb+c'), false);
    assert.equal(m('a.bbc'), false);
    assert.equal(compileWildmat('a-b/c')!('a-b/c'), true);
  });

  it('counts a UTF-8 character as one for ?', () => {
    assert.equal(compileWildmat('gr?ppe')!('grüppe'), true);
  });

  it('rejects malformed wildmats', () => {
    for (const bad of ['', 'a,,b', '!', 'a[b]', 'a\\b', 'a b', 'a!b']) {
      assert.equal(compileWildmat(bad), undefined, bad);
    }
  });
});
