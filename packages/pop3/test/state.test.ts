import assert from 'node:assert/strict';
import {
  allowedIn,
  COMMAND_PHASES,
  INITIAL_STATE,
  InvalidTransitionError,
  transition,
  type Pop3State,
} from '../src/state.js';

describe('pop3 state machine (RFC 1939 §3)', () => {
  it('goes AUTHORIZATION → TRANSACTION → UPDATE → CLOSED through login and QUIT', () => {
    let s: Pop3State = INITIAL_STATE;
    s = transition(s, { type: 'user', name: 'alice@example.org' });
    assert.deepEqual(s, { phase: 'AUTHORIZATION', pendingUser: 'alice@example.org' });
    s = transition(s, { type: 'authenticated', user: 'alice@example.org' });
    assert.deepEqual(s, { phase: 'TRANSACTION', user: 'alice@example.org' });
    s = transition(s, { type: 'quit' });
    assert.deepEqual(s, { phase: 'UPDATE', user: 'alice@example.org' });
    s = transition(s, { type: 'updated' });
    assert.deepEqual(s, { phase: 'CLOSED', reason: 'quit' });
  });

  it('QUIT in AUTHORIZATION closes without an UPDATE state', () => {
    assert.deepEqual(transition(INITIAL_STATE, { type: 'quit' }), { phase: 'CLOSED', reason: 'quit' });
  });

  it('a dropped connection never passes through UPDATE', () => {
    const s = transition({ phase: 'TRANSACTION', user: 'a' }, { type: 'drop' });
    assert.deepEqual(s, { phase: 'CLOSED', reason: 'dropped' });
  });

  it('STLS (reset) forgets the USER name (RFC 2595 §4)', () => {
    const s = transition({ phase: 'AUTHORIZATION', pendingUser: 'a' }, { type: 'reset' });
    assert.deepEqual(s, { phase: 'AUTHORIZATION' });
  });

  it('refuses illegal steps', () => {
    assert.throws(
      () => transition({ phase: 'TRANSACTION', user: 'a' }, { type: 'authenticated', user: 'b' }),
      InvalidTransitionError,
    );
    assert.throws(() => transition(INITIAL_STATE, { type: 'updated' }), InvalidTransitionError);
    assert.throws(
      () => transition({ phase: 'CLOSED', reason: 'quit' }, { type: 'quit' }),
      InvalidTransitionError,
    );
    assert.throws(
      () => transition({ phase: 'TRANSACTION', user: 'a' }, { type: 'user', name: 'b' }),
      InvalidTransitionError,
    );
  });

  it('knows where each command is valid', () => {
    assert.equal(allowedIn('STLS', 'AUTHORIZATION'), true);
    assert.equal(allowedIn('STLS', 'TRANSACTION'), false);
    assert.equal(allowedIn('RETR', 'AUTHORIZATION'), false);
    assert.equal(allowedIn('RETR', 'TRANSACTION'), true);
    assert.equal(allowedIn('CAPA', 'AUTHORIZATION'), true);
    assert.equal(allowedIn('CAPA', 'TRANSACTION'), true);
    for (const phases of Object.values(COMMAND_PHASES)) {
      assert.ok(!phases.includes('UPDATE') && !phases.includes('CLOSED'));
    }
  });
});
