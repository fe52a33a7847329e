/**
 * The final 250 only after the store confirmed the delivery (DESIGN.md, "The store"): a store
 * that fails gets 451 4.3.0 and nothing is kept; a slow store holds the 250 back; one
 * transaction to several local users is one deliver() call.
 */
import assert from 'node:assert/strict';
import type { DeliveryTarget, MailStore, MessageSource, Store } from '@postern/store';
import { ALICE, BOB, inbox, message, RawClient, startHarness, type Harness } from './e2e-harness.js';

const RAW = message(
  {
    From: 'carol@remote.example',
    To: BOB,
    Subject: 'durable',
    'Message-ID': '<d@x>',
    Date: 'Mon, 23 Nov 2026 08:00:00 +0000',
  },
  'body\r\n',
);

type Deliver = MailStore['deliver'];

function withDeliver(store: Store, deliver: (real: Deliver) => Deliver): Store {
  const mail = Object.create(store.mail) as MailStore;
  const real = store.mail.deliver.bind(store.mail);
  mail.deliver = deliver(real);
  return {
    kind: store.kind,
    accounts: store.accounts,
    mail,
    news: store.news,
    queue: store.queue,
    close: () => store.close(),
  };
}

async function openTransaction(h: Harness, rcpts: string[]): Promise<RawClient> {
  const c = await RawClient.connect(h.port);
  await c.reply();
  await c.command('EHLO client.example.net');
  await c.command('MAIL FROM:<carol@remote.example>');
  for (const r of rcpts) assert.equal((await c.command(`RCPT TO:<${r}>`)).code, 250);
  assert.equal((await c.command('DATA')).code, 354);
  return c;
}

describe('smtp server: durability before 250', function () {
  this.timeout(30_000);
  let h: Harness;
  afterEach(async () => h?.close());

  it('answers 451 4.3.0 when the store fails, keeps nothing, and the session goes on', async () => {
    h = await startHarness({
      role: 'mx',
      wrapStore: (s) =>
        withDeliver(s, () => async () => {
          throw new Error('disk full');
        }),
    });
    const c = await openTransaction(h, [BOB]);
    const r = await c.command(`${RAW.toString('utf8')}.`);
    assert.equal(r.code, 451);
    assert.match(r.lines[0]!, /^4\.3\.0 /);
    assert.equal((await c.command('NOOP')).code, 250);
    assert.equal((await inbox(h.store, BOB)).length, 0);
  });

  it('holds the 250 back until deliver() resolved, and delivers all local recipients in one call', async () => {
    const calls: Array<{ targets: DeliveryTarget[] }> = [];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let entered!: () => void;
    const called = new Promise<void>((r) => (entered = r));
    h = await startHarness({
      role: 'mx',
      wrapStore: (s) =>
        withDeliver(
          s,
          (real) => async (targets: DeliveryTarget[], msg: MessageSource, o?: { internalDate?: Date }) => {
            calls.push({ targets });
            entered();
            await gate;
            return real(targets, msg, o);
          },
        ),
    });
    const c = await openTransaction(h, [BOB, ALICE, BOB]);
    c.write(`${RAW.toString('utf8')}.\r\n`);
    await called;
    for (let i = 0; i < 20; i++) await new Promise((r) => setImmediate(r));
    assert.equal(c.pending, '', 'no reply while the store has not confirmed');
    release();
    const r = await c.reply();
    assert.equal(r.code, 250);
    assert.equal(calls.length, 1, 'one deliver() for the transaction');
    assert.deepEqual(calls[0]!.targets.map((t) => t.user).sort(), [ALICE, BOB]);
    assert.equal((await inbox(h.store, BOB)).length, 1);
    assert.equal((await inbox(h.store, ALICE)).length, 1);
  });
});
