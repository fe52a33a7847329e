/**
 * Property tests (fast-check) over the MAIL/RCPT argument parser and the session state machine:
 * whatever a client sends, the parser either returns a clean address or throws an SmtpError
 * carrying a 5xx reply; an accepted address can never break a header line or a path.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  INITIAL_STATE,
  parseMailFrom,
  parseRcptTo,
  SmtpError,
  transition,
  type SmtpEvent,
  type SmtpState,
} from '../src/index.js';

const MAX = 1_000_000;

/** Text that looks like SMTP arguments: angle brackets, @, =, spaces, controls and UTF-8. */
const argText = fc.string({
  unit: fc.oneof(
    fc.constantFrom('<', '>', '@', ':', '=', ' ', '"', '\\', '.', ',', '+', '\r', '\n', '\0', '\t', 'é', '☃'),
    fc.integer({ min: 0, max: 0x2fff }).map((c) => String.fromCodePoint(c)),
  ),
  maxLength: 80,
});

/** Mostly bracketed paths with an @, so that many are accepted and the checks bite. */
const pathText = fc.oneof(
  argText,
  argText.map((t) => `<${t}@example.org>`),
  fc.tuple(argText, argText).map(([a, b]) => `<${a}@${b}>`),
);

// A quoted local part may hold spaces and angle brackets (RFC 5321 §4.1.2); never CR, LF or NUL.
const DANGEROUS = /[\r\n\0]/;

function parses(fn: () => unknown): 'ok' | 'refused' {
  try {
    fn();
    return 'ok';
  } catch (err) {
    assert.ok(err instanceof SmtpError, `not an SmtpError: ${String(err)}`);
    assert.ok(err.reply.code >= 500 && err.reply.code < 600, err.message);
    assert.match(err.reply.enhanced ?? '', /^5\.\d{1,3}\.\d{1,3}$/);
    return 'refused';
  }
}

describe('smtp envelope parser (properties)', function () {
  it('MAIL FROM: never throws anything but a 5xx SmtpError, never yields a dangerous address', () => {
    fc.assert(
      fc.property(pathText, (tail) => {
        let from: string | undefined;
        const outcome = parses(() => (from = parseMailFrom(`FROM:${tail}`, MAX).from));
        if (outcome === 'ok') assert.doesNotMatch(from!, DANGEROUS, JSON.stringify(from));
      }),
      { numRuns: 2000 },
    );
  });

  it('RCPT TO: the same, with and without SMTPUTF8', () => {
    fc.assert(
      fc.property(pathText, fc.boolean(), (tail, utf8) => {
        let to: string | undefined;
        const outcome = parses(() => (to = parseRcptTo(`TO:${tail}`, utf8).to));
        if (outcome === 'ok') {
          assert.doesNotMatch(to!, DANGEROUS, JSON.stringify(to));
          if (!utf8) assert.match(to!, /^[\x20-\x7e]+$/, 'ASCII only without SMTPUTF8');
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts every well-formed dot-atom address and returns it unchanged', () => {
    const atom = fc.stringMatching(/^[a-z0-9!#$%&'*+\/=?^_`{|}~-]{1,10}$/);
    const label = fc.stringMatching(/^[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?$/);
    fc.assert(
      fc.property(
        fc.array(atom, { minLength: 1, maxLength: 3 }),
        fc.array(label, { minLength: 1, maxLength: 3 }),
        (locals, labels) => {
          const address = `${locals.join('.')}@${labels.join('.')}`;
          assert.equal(parseMailFrom(`FROM:<${address}>`, MAX).from, address);
          assert.equal(parseRcptTo(`TO:<${address}>`, false).to, address);
        },
      ),
    );
  });

  it('reads SIZE (RFC 1870) and refuses a declared size over the limit with 552 5.3.4', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 2 * MAX }), (size) => {
        try {
          const { params } = parseMailFrom(`FROM:<a@example.org> SIZE=${size}`, MAX);
          assert.ok(size <= MAX);
          assert.equal(params.size, size);
        } catch (err) {
          assert.ok(err instanceof SmtpError);
          assert.ok(size > MAX);
          assert.equal(err.reply.code, 552);
          assert.equal(err.reply.enhanced, '5.3.4');
        }
      }),
    );
  });

  it('takes the null reverse-path for MAIL only, and a bare postmaster for RCPT only (RFC 5321 §4.1.1)', () => {
    assert.equal(parseMailFrom('FROM:<>', MAX).from, '');
    assert.throws(() => parseRcptTo('TO:<>', false), SmtpError);
    assert.equal(parseRcptTo('TO:<Postmaster>', false).to, 'postmaster');
    assert.throws(() => parseMailFrom('FROM:<postmaster>', MAX), SmtpError);
  });

  it('keeps DSN parameters (RFC 3461) decoded from xtext', () => {
    const { params } = parseMailFrom('FROM:<a@example.org> RET=FULL ENVID=QQ+2B1', MAX);
    assert.equal(params.ret, 'FULL');
    assert.equal(params.envid, 'QQ+1');
    const rcpt = parseRcptTo('TO:<b@example.org> NOTIFY=FAILURE,DELAY ORCPT=rfc822;b@example.org', false);
    assert.deepEqual(rcpt.params.notify, ['FAILURE', 'DELAY']);
    assert.throws(() => parseRcptTo('TO:<b@example.org> NOTIFY=NEVER,FAILURE', false), SmtpError);
  });
});

describe('smtp session state machine (properties)', function () {
  const helo = { name: 'client.example.net', extended: true };
  const tx = { from: 'a@example.org', params: { smtputf8: false }, recipients: [] };
  const recipient = {
    address: 'b@example.org',
    params: {},
    target: { kind: 'local' as const, user: 'b@example.org' },
  };
  const event = fc.constantFrom<SmtpEvent>(
    { type: 'helo', helo },
    { type: 'mail', tx },
    { type: 'rcpt', recipient },
    { type: 'message-done' },
    { type: 'rset' },
    { type: 'tls' },
  );

  it('only refuses with 503/554 SmtpErrors, and TLS always returns to the start (RFC 3207 §4.2)', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 40 }), (events) => {
        let state: SmtpState = INITIAL_STATE;
        for (const e of events) {
          try {
            state = transition(state, e);
          } catch (err) {
            assert.ok(err instanceof SmtpError);
            assert.ok([503, 554].includes(err.reply.code), err.message);
            continue;
          }
          if (e.type === 'tls') assert.equal(state.kind, 'connected');
          if (e.type === 'helo') assert.equal(state.kind, 'ready');
          if (e.type === 'mail') assert.equal(state.kind, 'mail');
        }
      }),
    );
  });

  it('needs HELO/EHLO again after STARTTLS before MAIL', () => {
    let state = transition(INITIAL_STATE, { type: 'helo', helo });
    state = transition(state, { type: 'tls' });
    assert.throws(
      () => transition(state, { type: 'mail', tx }),
      (e: unknown) => e instanceof SmtpError && e.reply.code === 503,
    );
  });
});
