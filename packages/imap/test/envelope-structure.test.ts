/**
 * ENVELOPE address structures (RFC 3501 §7.4.2) for groups and source routes, and the body
 * line count BODYSTRUCTURE gives a text part of a subtype we do not know.
 */
import assert from 'node:assert/strict';
import { ALICE, ALICE_PW, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';

const crlf = (s: string) => s.replace(/\n/g, '\r\n');

describe('imap ENVELOPE groups and routes, BODYSTRUCTURE lines', () => {
  let h: Harness;
  let c: RawClient;
  before(async () => {
    h = await startHarness({ allowInsecureAuth: true });
    const date = 'Date: Thu, 15 Feb 2007 01:02:03 +0200\n';
    const mails = [
      `${date}From: user@domain (Real Name)\nTo: team: g1@d1.org, g2@d2.org;, team2: g3@d3.org;\nCc: empty:;, other: (just a comment) ;\n\nbody\n`,
      `${date}From: <@route:user@domain>\nTo: Named <@r1,@r2:someone@example.net>, plain@example.net\n\nbody\n`,
      `${date}From: user@domain.org\nMime-Version: 1.0\nContent-Type: multipart/mixed; boundary="foo\n bar"\n\n--foo bar\nContent-Type: text/x-myown; charset=us-ascii\n\nhello\n\n--foo bar--\n`,
    ];
    for (const m of mails) await h.store.mail.append(ALICE, 'INBOX', crlf(m));
    c = await RawClient.connect(h.port);
    await c.readLine();
    await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`);
    await c.command('s', 'SELECT INBOX');
  });
  after(async () => {
    c.close();
    await h.close();
  });

  const fetch = async (n: number, item: string) => (await c.command('f', `FETCH ${n} ${item}`))[0];

  it('gives a group its start and end markers and nothing for a comment-only member', async () => {
    const env = await fetch(1, 'ENVELOPE');
    const from = '(("Real Name" NIL "user" "domain"))';
    const to =
      '((NIL NIL "team" NIL)(NIL NIL "g1" "d1.org")(NIL NIL "g2" "d2.org")(NIL NIL NIL NIL)' +
      '(NIL NIL "team2" NIL)(NIL NIL "g3" "d3.org")(NIL NIL NIL NIL))';
    const cc = '((NIL NIL "empty" NIL)(NIL NIL NIL NIL)(NIL NIL "other" NIL)(NIL NIL NIL NIL))';
    assert.equal(
      env,
      `* 1 FETCH (ENVELOPE ("Thu, 15 Feb 2007 01:02:03 +0200" NIL ${from} ${from} ${from} ${to} ${cc} NIL NIL NIL))`,
    );
  });

  it('keeps an obsolete source route (RFC 5322 §4.4 obs-route) as the address adl', async () => {
    const env = await fetch(2, 'ENVELOPE');
    const from = '((NIL "@route" "user" "domain"))';
    const to = '(("Named" "@r1,@r2" "someone" "example.net")(NIL NIL "plain" "example.net"))';
    assert.equal(
      env,
      `* 2 FETCH (ENVELOPE ("Thu, 15 Feb 2007 01:02:03 +0200" NIL ${from} ${from} ${from} ${to} NIL NIL NIL NIL))`,
    );
  });

  it('counts the lines of a text/x-myown part in BODY and BODYSTRUCTURE', async () => {
    assert.equal(
      await fetch(3, 'BODY'),
      '* 3 FETCH (BODY (("TEXT" "X-MYOWN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 7 1) "MIXED"))',
    );
  });
});
