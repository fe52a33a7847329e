/**
 * SEARCH keys over header text as a reader sees it (RFC 3501 §6.4.4): RFC 2047 encoded words
 * decoded, SENT* dates taken from the Date: field as written, address comments ignored.
 */
import assert from 'node:assert/strict';
import { ALICE, ALICE_PW, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';

const msg = (headers: string, body = 'body\r\n') => `${headers.replace(/\n/g, '\r\n')}\r\n\r\n${body}`;

describe('imap SEARCH over header text', () => {
  let h: Harness;
  let c: RawClient;
  before(async () => {
    h = await startHarness({ allowInsecureAuth: true });
    const mails = [
      // 1: "Grüße aus Zürich" in base64, 2: "Meeting in Zürich" in Q encoding
      msg(
        'From: a@example.org\nSubject: =?UTF-8?B?R3LDvMOfZSBhdXMgWsO8cmljaA==?=\nDate: Sat, 24 Mar 2007 23:00:00 +0200',
      ),
      msg(
        'From: a@example.org\nSubject: =?ISO-8859-1?Q?Meeting_in_Z=FCrich?=\nDate: Sun, 25 Mar 2007 00:00:00 +0200',
      ),
      // 3: the comment-laden form imaptest's search-addresses uses
      msg(
        'From: <user-from (comment)@ (comment) domain.org>\nSubject: plain\nDate: Sun, 25 Mar 2007 23:00:00 +0300',
      ),
      // 4: a zone that puts the UTC date on the previous day
      msg('From: b@example.org (Real Name)\nSubject: other\nDate: Mon, 26 Mar 2007 00:00:00 +0300'),
    ];
    for (const m of mails)
      await h.store.mail.append(ALICE, 'INBOX', m, { internalDate: new Date('2020-01-01T12:00:00Z') });
    c = await RawClient.connect(h.port);
    await c.readLine();
    await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`);
    await c.command('s', 'SELECT INBOX');
  });
  after(async () => {
    c.close();
    await h.close();
  });

  const search = async (query: string) => (await c.command('q', `SEARCH ${query}`))[0];

  it('decodes RFC 2047 encoded words before matching SUBJECT (UTF-8 literal and ASCII word)', async () => {
    const word = Buffer.from('z\u00fcrich');
    c.send(`q SEARCH CHARSET UTF-8 SUBJECT {${word.length}+}\r\n`);
    c.send(Buffer.concat([word, Buffer.from('\r\n')]));
    assert.deepEqual(await c.until('q'), ['* SEARCH 1 2', 'q OK SEARCH completed']);
    assert.equal(await search('SUBJECT meeting'), '* SEARCH 2');
    assert.equal(await search('SUBJECT "aus"'), '* SEARCH 1');
    assert.equal(await search('TEXT "meeting in"'), '* SEARCH 2');
    assert.equal(await search('HEADER Subject "in Z"'), '* SEARCH 2');
  });

  it('FROM matches an address written with comments in it, and the comment text', async () => {
    assert.equal(await search('FROM user-from@domain.org'), '* SEARCH 3');
    assert.equal(await search('FROM ser-from@dom'), '* SEARCH 3');
    assert.equal(await search('FROM "real name"'), '* SEARCH 4');
  });

  it('SENTON/SENTBEFORE/SENTSINCE use the date as written in Date:, ignoring its zone', async () => {
    assert.equal(await search('SENTON 24-Mar-2007'), '* SEARCH 1');
    assert.equal(await search('SENTON 25-Mar-2007'), '* SEARCH 2 3');
    assert.equal(await search('SENTON 26-Mar-2007'), '* SEARCH 4');
    assert.equal(await search('SENTBEFORE 25-Mar-2007'), '* SEARCH 1');
    assert.equal(await search('SENTBEFORE 26-Mar-2007'), '* SEARCH 1 2 3');
    assert.equal(await search('SENTSINCE 25-Mar-2007'), '* SEARCH 2 3 4');
    assert.equal(await search('SENTSINCE 26-Mar-2007'), '* SEARCH 4');
    assert.equal(await search('NOT SENTON 25-Mar-2007'), '* SEARCH 1 4');
  });
});
