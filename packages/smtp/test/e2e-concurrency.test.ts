/**
 * Many sessions at once: every message is delivered exactly once, to the right INBOX, with no
 * session seeing another's transaction.
 */
import assert from 'node:assert/strict';
import nodemailer from 'nodemailer';
import { ALICE, ALICE_PW, BOB, inbox, message, startHarness, type Harness } from './e2e-harness.js';

describe('smtp server: concurrent sessions', function () {
  this.timeout(60_000);
  let h: Harness;
  before(async () => {
    h = await startHarness({ role: 'submission', relay: 'capture', maxConnectionsPerIp: 100 });
  });
  after(async () => h.close());

  it('delivers 40 messages sent over 40 parallel STARTTLS sessions exactly once each', async () => {
    const n = 40;
    const sends = Array.from({ length: n }, (_, i) => {
      const t = nodemailer.createTransport({
        host: '127.0.0.1',
        port: h.port,
        secure: false,
        requireTLS: true,
        tls: { ca: h.ca, servername: 'localhost' },
        auth: { user: ALICE, pass: ALICE_PW },
      });
      const to = i % 2 === 0 ? [BOB] : [BOB, `remote${i}@remote.example`];
      const raw = message(
        { From: ALICE, To: to.join(', '), Subject: `parallel ${i}`, 'Message-ID': `<p${i}@x>` },
        `number ${i}\r\n`,
      );
      return t.sendMail({ envelope: { from: ALICE, to }, raw });
    });
    const results = await Promise.all(sends);
    assert.equal(results.length, n);
    const subjects = (await inbox(h.store, BOB))
      .map((m) => /Subject: parallel (\d+)/.exec(m.toString())![1])
      .sort((a, b) => Number(a) - Number(b));
    assert.deepEqual(
      subjects,
      Array.from({ length: n }, (_, i) => String(i)),
    );
    const captured = h.captured.map((m) => m.envelope.to.join()).sort();
    assert.deepEqual(
      captured,
      Array.from({ length: n / 2 }, (_, k) => `remote${2 * k + 1}@remote.example`).sort(),
    );
    for (const m of h.captured) {
      const i = /remote(\d+)@/.exec(m.envelope.to[0]!)![1];
      assert.match(
        m.message.toString(),
        new RegExp(`Subject: parallel ${i}\\r\\n`),
        'each capture holds its own message',
      );
    }
  });
});
