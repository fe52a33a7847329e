import assert from 'node:assert/strict';
import { expectArgs, parseCommand, parseLineCount, parseMessageNumber } from '../src/commands.js';
import { Pop3Error } from '../src/replies.js';
import { capabilities } from '../src/capabilities.js';

describe('pop3 command parsing', () => {
  it('upper-cases the keyword and splits the arguments', () => {
    const c = parseCommand('top 3 10');
    assert.equal(c.keyword, 'TOP');
    assert.equal(c.command, 'TOP');
    assert.deepEqual(c.args, ['3', '10']);
  });

  it('keeps the whole PASS argument, spaces included (RFC 1939 §7)', () => {
    const c = parseCommand('PASS  my secret  pass ');
    assert.equal(c.rest, ' my secret  pass ');
  });

  it('marks unknown keywords', () => {
    assert.equal(parseCommand('APOP a b').command, undefined);
    assert.equal(parseCommand('').command, undefined);
  });

  it('checks argument counts', () => {
    assert.throws(() => expectArgs(parseCommand('RETR'), 1, 1, 'RETR msg'), Pop3Error);
    assert.throws(() => expectArgs(parseCommand('RETR 1 2'), 1, 1, 'RETR msg'), Pop3Error);
    assert.doesNotThrow(() => expectArgs(parseCommand('RETR 1'), 1, 1, 'RETR msg'));
    assert.throws(() => expectArgs(parseCommand(`USER ${'a'.repeat(256)}`), 1, 1, 'USER name'), /too long/);
  });

  it('accepts only positive decimal message numbers', () => {
    assert.equal(parseMessageNumber('1'), 1);
    assert.equal(parseMessageNumber('0042'), 42);
    for (const bad of ['0', '-1', '+1', '1.5', '0x10', 'one', '', '1e3', '9999999999999999']) {
      assert.throws(() => parseMessageNumber(bad), Pop3Error, bad);
    }
  });

  it('accepts a zero TOP line count', () => {
    assert.equal(parseLineCount('0'), 0);
    assert.throws(() => parseLineCount('-1'), Pop3Error);
  });
});

describe('pop3 CAPA (RFC 2449 §5)', () => {
  it('offers STLS and no plaintext login before TLS', () => {
    const caps = capabilities({ phase: 'AUTHORIZATION', secure: false, authAllowed: false });
    assert.ok(caps.includes('STLS'));
    assert.ok(!caps.includes('USER'));
    assert.ok(!caps.some((c) => c.startsWith('SASL')));
    assert.ok(
      caps.includes('RESP-CODES') &&
        caps.includes('AUTH-RESP-CODE') &&
        caps.includes('UIDL') &&
        caps.includes('TOP'),
    );
  });

  it('offers USER and SASL PLAIN under TLS, and no STLS', () => {
    const caps = capabilities({ phase: 'AUTHORIZATION', secure: true, authAllowed: true });
    assert.ok(!caps.includes('STLS'));
    assert.ok(caps.includes('USER'));
    assert.ok(caps.includes('SASL PLAIN'));
  });

  it('offers no login or STLS in the TRANSACTION state', () => {
    const caps = capabilities({ phase: 'TRANSACTION', secure: false, authAllowed: true });
    assert.ok(!caps.includes('STLS') && !caps.includes('USER'));
  });
});
