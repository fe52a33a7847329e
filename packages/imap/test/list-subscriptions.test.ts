/**
 * Subscriptions in LIST-EXTENDED (RFC 5258) and LSUB (RFC 3501 §6.3.9): CREATE does not
 * subscribe; RECURSIVEMATCH alone is BAD; a subscription outlives its mailbox and is listed \NonExistent until
 * UNSUBSCRIBE (RFC 3501 §6.3.6); RECURSIVEMATCH points at subscribed descendants the
 * patterns leave out with CHILDINFO ("SUBSCRIBED"); LSUB with '%' lists the unsubscribed
 * parent of a subscribed name \Noselect, and forgets a name another session unsubscribed.
 */
import assert from 'node:assert/strict';
import { ALICE, startHarness, type Harness, loginPlain } from './harness.js';

const last = (lines: string[]) => lines[lines.length - 1];

/** The untagged lines for `name`, whatever their attributes. */
const about = (lines: string[], name: string) =>
  lines.filter((l) => l.startsWith('* ') && (l.endsWith(` "/" ${name}`) || l.includes(` "/" ${name} (`)));

describe('imap LIST-EXTENDED and LSUB subscriptions', () => {
  let h: Harness;
  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
    // T/one subscribed; T/two not, T/two/sub is; T/three only implied by T/three/deep (subscribed);
    // T/four not, T/four/four is.
    const mail = h.store.mail;
    for (const n of ['T/one', 'T/two', 'T/two/sub', 'T/three/deep', 'T/four', 'T/four/four']) {
      await mail.createMailbox(ALICE, n);
      const subscribe = !['T/two', 'T/four'].includes(n);
      await mail.setSubscribed(ALICE, n, subscribe);
    }
  });
  afterEach(async () => {
    await h.close();
  });

  const login = () => loginPlain(h.port);

  it('refuses RECURSIVEMATCH without another selection option', async () => {
    const c = await login();
    assert.match(last(await c.command('a', 'LIST (RECURSIVEMATCH) "" "*"')), /^a BAD/);
    assert.match(last(await c.command('b', 'LIST (RECURSIVEMATCH REMOTE) "" "*"')), /^b BAD/);
    assert.match(last(await c.command('c', 'LIST (REMOTE) "" "%"')), /^c OK/);
    assert.match(last(await c.command('d', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "%"')), /^d OK/);
    c.close();
  });

  it("keeps listing a deleted mailbox's subscription \\NonExistent until UNSUBSCRIBE", async () => {
    const c = await login();
    assert.match(last(await c.command('a', 'CREATE T/gone')), /^a OK/);
    assert.match(last(await c.command('b', 'SUBSCRIBE T/gone')), /^b OK/);
    assert.match(last(await c.command('c', 'DELETE T/gone')), /^c OK/);
    const sub = await c.command('d', 'LIST (SUBSCRIBED) "" "T/*"');
    const gone = about(sub, 'T/gone');
    assert.equal(gone.length, 1, sub.join('\n'));
    assert.match(gone[0], /\\NonExistent/);
    assert.match(gone[0], /\\Subscribed/);
    assert.doesNotMatch(gone[0], /\\Noselect/);
    // Not a mailbox: plain LIST does not show it.
    assert.deepEqual(about(await c.command('e', 'LIST "" "T/*"'), 'T/gone'), []);
    assert.match(last(await c.command('f', 'UNSUBSCRIBE T/gone')), /^f OK/);
    assert.deepEqual(about(await c.command('g', 'LIST (SUBSCRIBED) "" "T/*"'), 'T/gone'), []);
    assert.match(last(await c.command('h', 'UNSUBSCRIBE T/gone')), /^h NO/);
    c.close();
  });

  it('CREATE does not subscribe (RFC 3501 §6.3.3); the mailboxes a user starts with are', async () => {
    const c = await login();
    assert.match(last(await c.command('a', 'CREATE T/new')), /^a OK/);
    const lines = await c.command('b', 'LIST "" (INBOX T/new) RETURN (SUBSCRIBED)');
    assert.deepEqual(lines, [
      '* LIST (\\HasNoChildren \\Subscribed) "/" INBOX',
      '* LIST (\\HasNoChildren) "/" T/new',
      'b OK LIST completed',
    ]);
    c.close();
  });

  it('points at subscribed descendants left out by the patterns with CHILDINFO', async () => {
    const c = await login();
    const pct = await c.command('a', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "T/%" RETURN (CHILDREN)');
    assert.match(last(pct), /^a OK/);
    assert.deepEqual(about(pct, 'T/one'), ['* LIST (\\HasNoChildren \\Subscribed) "/" T/one']);
    assert.deepEqual(about(pct, 'T/two'), ['* LIST (\\HasChildren) "/" T/two ("CHILDINFO" ("SUBSCRIBED"))']);
    assert.deepEqual(about(pct, 'T/three'), [
      '* LIST (\\Noselect \\HasChildren) "/" T/three ("CHILDINFO" ("SUBSCRIBED"))',
    ]);
    assert.deepEqual(about(pct, 'T/four'), [
      '* LIST (\\HasChildren) "/" T/four ("CHILDINFO" ("SUBSCRIBED"))',
    ]);
    assert.equal(pct.length, 5, pct.join('\n'));
    // The subscribed child matches itself: it is listed, its parent is not pointed at.
    const star = await c.command('b', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" "T/*four"');
    assert.deepEqual(star, ['* LIST (\\HasNoChildren \\Subscribed) "/" T/four/four', 'b OK LIST completed']);
    const both = await c.command('c', 'LIST (SUBSCRIBED RECURSIVEMATCH) "" (T/two T/two/sub)');
    assert.deepEqual(both, ['* LIST (\\HasNoChildren \\Subscribed) "/" T/two/sub', 'c OK LIST completed']);
    // Without RECURSIVEMATCH, only the subscribed names themselves.
    const plain = await c.command('d', 'LIST (SUBSCRIBED) "" "T/%"');
    assert.deepEqual(plain, ['* LIST (\\HasNoChildren \\Subscribed) "/" T/one', 'd OK LIST completed']);
    c.close();
  });

  it('LSUB lists unsubscribed parents \\Noselect for % and forgets an unsubscribed name', async () => {
    const a = await login();
    const b = await login();
    const pct = await b.command('a', 'LSUB "" T/%');
    assert.deepEqual(pct, [
      '* LSUB (\\Noselect \\HasChildren) "/" T/four',
      '* LSUB (\\HasNoChildren) "/" T/one',
      '* LSUB (\\Noselect \\HasChildren) "/" T/three',
      '* LSUB (\\Noselect \\HasChildren) "/" T/two',
      'a OK LSUB completed',
    ]);
    const star = await b.command('b', 'LSUB "" T/*');
    assert.deepEqual(star, [
      '* LSUB (\\HasNoChildren) "/" T/four/four',
      '* LSUB (\\HasNoChildren) "/" T/one',
      '* LSUB (\\HasNoChildren) "/" T/three/deep',
      '* LSUB (\\HasNoChildren) "/" T/two/sub',
      'b OK LSUB completed',
    ]);
    assert.match(last(await a.command('c', 'UNSUBSCRIBE T/one')), /^c OK/);
    assert.deepEqual(about(await b.command('d', 'LSUB "" T/%'), 'T/one'), []);
    assert.match(last(await a.command('e', 'UNSUBSCRIBE T/two/sub')), /^e OK/);
    const after = await b.command('f', 'LSUB "" T/%');
    assert.deepEqual(about(after, 'T/two'), [], after.join('\n'));
    assert.equal(about(after, 'T/three').length, 1, after.join('\n'));
    a.close();
    b.close();
  });
});
