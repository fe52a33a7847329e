/**
 * Hostile messages delivered to a mailbox (issue 19 item 10): a raw NUL in a header must not
 * reach an ENVELOPE literal (RFC 3501 §9: CHAR8 has no NUL), and MIME nested ten thousand
 * deep must neither overflow a stack at delivery nor when BODYSTRUCTURE is rendered.
 */
import assert from 'node:assert/strict';
import { RawClient } from './client.js';
import { ALICE, ALICE_PW, startHarness, type Harness } from './harness.js';

const last = (lines: string[]) => lines[lines.length - 1];

describe('imap with hostile messages', () => {
  let h: Harness;
  let c: RawClient;
  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
  });
  afterEach(async () => {
    c.close();
    await h.close();
  });

  async function select(): Promise<void> {
    c = await RawClient.connect(h.port);
    await c.readLine();
    assert.match(last(await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^l OK/);
    assert.match(last(await c.command('s', 'SELECT INBOX')), /^s OK/);
  }

  it('sends no NUL in ENVELOPE for a header that carries one', async () => {
    const raw = [
      'From: "Eve\0Mallory" <eve@example.org>',
      'To: alice@example.org',
      'Subject: before\0after',
      'Message-ID: <nul\0id@example.org>',
      '',
      'Body.',
      '',
    ].join('\r\n');
    await h.store.mail.append(ALICE, 'INBOX', Buffer.from(raw, 'latin1'), {});
    await select();
    const res = await c.command('f', 'FETCH 1 (ENVELOPE BODYSTRUCTURE)');
    assert.match(last(res), /^f OK/);
    const text = res.join('\r\n');
    assert.ok(!text.includes('\0'), JSON.stringify(text));
    assert.match(text, /before\uFFFDafter/);
  });

  it('sends a NUL of a message body as 0x80 in BODY[] literals, small or streamed, and keeps it in literal8', async () => {
    const head = 'From: bob@example.org\r\nTo: alice@example.org\r\nSubject: nul\r\n\r\n';
    const small = Buffer.from(`${head}a\0b\r\n`, 'latin1');
    const large = Buffer.from(`${head}${'x'.repeat(300 * 1024)}\0\r\n`, 'latin1');
    await h.store.mail.append(ALICE, 'INBOX', small, {});
    await h.store.mail.append(ALICE, 'INBOX', large, {});
    await select();
    for (const [n, raw] of [
      [1, small],
      [2, large],
    ] as const) {
      const res = await c.command('f', `FETCH ${n} (RFC822.SIZE BODY.PEEK[] BODY.PEEK[TEXT])`);
      assert.match(last(res), /^f OK/);
      const text = res.join('\r\n');
      assert.ok(!text.includes('\0'), `message ${n} sent a NUL`);
      assert.ok(text.includes(`RFC822.SIZE ${raw.length} `), `message ${n} size`);
      assert.ok(text.includes(`BODY[] {${raw.length}}`), `message ${n} literal length`);
    }
    // RFC 3516 §4.2: BINARY's literal8 carries the NUL as it is.
    const bin = await c.command('b', 'FETCH 1 (BINARY.PEEK[1])');
    assert.match(bin[0], /BINARY\[1\] ~\{5\}\r\na\0b\r\n/);
  });

  it('indexes and renders MIME nested ten thousand deep without a stack overflow', async () => {
    const depth = 10_000;
    const head: string[] = ['From: bob@example.org', 'To: alice@example.org', 'Subject: deep'];
    const open: string[] = [];
    const close: string[] = [];
    for (let i = 0; i < depth; i++) {
      open.push(`Content-Type: multipart/mixed; boundary="b${i}"`, '', `--b${i}`);
      close.unshift(`--b${i}--`);
    }
    const raw = [...head, ...open, 'Content-Type: text/plain', '', 'leaf', ...close, ''].join('\r\n');
    await h.store.mail.append(ALICE, 'INBOX', Buffer.from(raw), {});
    await select();
    const res = await c.command('f', 'FETCH 1 (BODYSTRUCTURE ENVELOPE)');
    assert.match(last(res), /^f OK/);
    assert.match(res[0], /^\* 1 FETCH \(BODYSTRUCTURE \(\(/);
    assert.deepEqual(await c.command('n', 'NOOP'), ['n OK NOOP completed']);
  });
});
