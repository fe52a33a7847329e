import assert from 'node:assert/strict';
import { INITIAL_STATE, InvalidTransitionError, transition } from '../src/state.js';

describe('NNTP session state machine', () => {
  it('resets group, article and a pending AUTHINFO USER on TLS (RFC 4642 §2.2.2)', () => {
    let s = transition(INITIAL_STATE, { type: 'select-group', group: 'a.b', article: 3 });
    s = transition(s, { type: 'user', user: 'u@x' });
    s = transition(s, { type: 'tls' });
    assert.equal(s.secure, true);
    assert.equal(s.group, null);
    assert.equal(s.article, null);
    assert.equal(s.auth.kind, 'anonymous');
  });

  it('refuses TLS twice and TLS after authentication', () => {
    const secure = transition(INITIAL_STATE, { type: 'tls' });
    assert.throws(() => transition(secure, { type: 'tls' }), InvalidTransitionError);
    const authed = transition(INITIAL_STATE, { type: 'authenticated', user: 'u' });
    assert.throws(() => transition(authed, { type: 'tls' }), InvalidTransitionError);
  });

  it('authenticates once (RFC 4643 §2.2)', () => {
    const authed = transition(INITIAL_STATE, { type: 'authenticated', user: 'u' });
    assert.equal(authed.auth.kind, 'authenticated');
    assert.throws(() => transition(authed, { type: 'authenticated', user: 'v' }), InvalidTransitionError);
    assert.throws(() => transition(authed, { type: 'user', user: 'v' }), InvalidTransitionError);
  });

  it('needs a group before an article is selected, and nothing after close', () => {
    assert.throws(
      () => transition(INITIAL_STATE, { type: 'select-article', article: 1 }),
      InvalidTransitionError,
    );
    const closed = transition(INITIAL_STATE, { type: 'close' });
    assert.throws(
      () => transition(closed, { type: 'select-group', group: 'a', article: null }),
      InvalidTransitionError,
    );
  });
});
