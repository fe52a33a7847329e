import assert from 'node:assert/strict';
import { INITIAL_STATE, transition, type ImapState } from '../src/index.js';
import type { SelectedMailbox } from '../src/selected.js';

describe('imap state machine (RFC 3501 §3)', () => {
  const box = { close() {} } as unknown as SelectedMailbox;
  it('walks NotAuthenticated → Authenticated → Selected → Authenticated → Logout', () => {
    let s: ImapState = INITIAL_STATE;
    s = transition(s, { type: 'login', user: 'a@b' });
    assert.deepEqual(s, { kind: 'Authenticated', user: 'a@b' });
    s = transition(s, { type: 'select', mailbox: box });
    assert.equal(s.kind, 'Selected');
    s = transition(s, { type: 'select', mailbox: box });
    assert.equal(s.kind, 'Selected');
    s = transition(s, { type: 'deselect' });
    assert.equal(s.kind, 'Authenticated');
    assert.equal(transition(s, { type: 'logout' }).kind, 'Logout');
  });
  it('refuses illegal steps', () => {
    assert.throws(() => transition(INITIAL_STATE, { type: 'select', mailbox: box }));
    assert.throws(() => transition({ kind: 'Authenticated', user: 'x' }, { type: 'login', user: 'y' }));
    assert.throws(() => transition({ kind: 'Logout' }, { type: 'deselect' }));
  });
});
