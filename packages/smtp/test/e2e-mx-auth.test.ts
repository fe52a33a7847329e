/**
 * Issue 19, item 6: the MX listener offers AUTH after STARTTLS; a user who authenticates there
 * relays under the same sender rule as on submission (RFC 6409 §6.1: 553 5.7.1 for an address
 * that is not theirs), and the Received header names the authenticated user.
 */
import assert from 'node:assert/strict';
import {
  ALICE,
  ALICE_PW,
  BOB,
  addedPrefix,
  inbox,
  message,
  RawClient,
  startHarness,
  type Harness,
} from './e2e-harness.js';

const MAIL = message(
  {
    From: ALICE,
    To: 'dave@remote.example',
    Subject: 'from the MX port',
    'Message-ID': '<mx-auth@example.org>',
    Date: 'Mon, 23 Nov 2026 08:00:00 +0000',
  },
  'Hello.\r\n',
);

async function queued(h: Harness): Promise<Buffer> {
  const [item] = await h.store.queue.list();
  assert.ok(item, 'a message was queued');
  const chunks: Buffer[] = [];
  for await (const x of await h.store.queue.openMessage(item.id)) chunks.push(x as Buffer);
  return Buffer.concat(chunks);
}

describe('smtp server: AUTH on the MX port (issue 19, item 6)', function () {
  let h: Harness | undefined;
  afterEach(async () => {
    await h?.close();
    h = undefined;
  });

  it('refuses a spoofed MAIL FROM after STARTTLS + AUTH on the MX port with 553 5.7.1, as submission does', async () => {
    for (const role of ['mx', 'submission'] as const) {
      h = await startHarness({ role, relay: 'queue' });
      const c = await RawClient.connect(h.port);
      await c.reply();
      await c.startTls(h.ca);
      assert.equal((await c.auth(ALICE, ALICE_PW)).code, 235);
      const r = await c.command('MAIL FROM:<ceo@bank.example>');
      assert.equal(r.code, 553, `${role}: ${r.raw}`);
      assert.match(r.lines[0]!, /^5\.7\.1 /);
      // Another local user's address is not the user's either.
      assert.equal((await c.command('MAIL FROM:<bob@example.org>')).code, 553, role);
      assert.equal((await h.store.queue.list()).length, 0);
      await h.close();
      h = undefined;
    }
  });

  it('relays the user’s own address from the MX port and names the user in Received', async () => {
    h = await startHarness({ role: 'mx', relay: 'queue' });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.startTls(h.ca);
    assert.equal((await c.auth(ALICE, ALICE_PW)).code, 235);
    assert.equal((await c.command(`MAIL FROM:<${ALICE}>`)).code, 250);
    assert.equal((await c.command('RCPT TO:<dave@remote.example>')).code, 250);
    assert.equal((await c.command('DATA')).code, 354);
    assert.equal((await c.command(`${MAIL.toString('utf8')}.`)).code, 250);
    const trace = addedPrefix(await queued(h), MAIL);
    assert.match(trace, /^Received: from [^\r]*\r\n\t\(Authenticated sender: alice@example\.org\)\r\n\tby /);
    assert.match(trace, / with ESMTPSA /);
    assert.ok(!trace.includes(ALICE_PW), 'no password in the trace');
  });

  it('still takes mail for local users from anyone without AUTH on the MX port, Received naming no user', async () => {
    h = await startHarness({ role: 'mx', relay: 'queue' });
    const c = await RawClient.connect(h.port);
    await c.reply();
    await c.command('EHLO client.example.net');
    assert.equal((await c.command('MAIL FROM:<ceo@bank.example>')).code, 250);
    assert.equal((await c.command('RCPT TO:<bob@example.org>')).code, 250);
    assert.equal((await c.command('DATA')).code, 354);
    assert.equal((await c.command(`${MAIL.toString('utf8')}.`)).code, 250);
    const [stored] = await inbox(h.store, BOB);
    const trace = addedPrefix(stored!, MAIL);
    assert.match(trace, /^Received: from /m);
    assert.doesNotMatch(trace, /Authenticated sender/);
  });
});
