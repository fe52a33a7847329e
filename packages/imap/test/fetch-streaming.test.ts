/**
 * Large FETCH literals (BODY[], RFC822, BODY[TEXT]) go out as the store reads them, never held
 * whole by the server; and a store that gives fewer octets than the literal announced costs the
 * connection, not the protocol's framing.
 */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { ALICE, ALICE_PW, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';
import { STREAMED_LITERAL_OVER } from '../src/fetch-render.js';

const last = (lines: string[]) => lines[lines.length - 1];

/** A message well over the streaming threshold: numbered 76-column lines. */
function bigMessage(bytes: number): string {
  const head = 'From: bob@example.org\r\nTo: alice@example.org\r\nSubject: big\r\n\r\n';
  const lines: string[] = [];
  let size = head.length;
  for (let i = 0; size < bytes; i++) {
    const line = `${String(i).padStart(8, '0')} ${'x'.repeat(67)}\r\n`;
    lines.push(line);
    size += line.length;
  }
  return head + lines.join('');
}

describe('imap FETCH of large literals', function () {
  this.timeout(30_000);
  let h: Harness;
  const raw = bigMessage(3 * 1024 * 1024);
  const body = raw.slice(raw.indexOf('\r\n\r\n') + 4);

  beforeEach(async () => {
    h = await startHarness({ allowInsecureAuth: true });
    await h.store.mail.append(ALICE, 'INBOX', Buffer.from(raw));
  });
  afterEach(async () => {
    await h.close();
  });

  async function selected(): Promise<RawClient> {
    const c = await RawClient.connect(h.port);
    await c.readLine();
    assert.match(last(await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^l OK/);
    assert.match(last(await c.command('s', 'SELECT INBOX')), /^s OK/);
    return c;
  }

  it('answers BODY[], RFC822 and BODY[TEXT] byte for byte above the streaming threshold', async () => {
    assert.ok(raw.length > STREAMED_LITERAL_OVER);
    const c = await selected();
    for (const [item, name, want] of [
      ['BODY.PEEK[]', 'BODY[]', raw],
      ['RFC822', 'RFC822', raw],
      ['BODY.PEEK[TEXT]', 'BODY[TEXT]', body],
    ] as const) {
      const lines = await c.command('f', `FETCH 1 (${item})`);
      const resp = lines.find((l) => l.startsWith('* 1 FETCH'))!;
      const prefix = `${name} {${want.length}}\r\n`;
      const at = resp.indexOf(prefix);
      assert.ok(at > 0, `${item}: ${resp.slice(0, 80)}`);
      assert.equal(resp.slice(at + prefix.length, at + prefix.length + want.length), want, item);
      assert.match(last(lines), /^f OK/);
    }
    c.close();
  });

  it('writes the literal while the store is still reading it', async () => {
    const c = await selected();
    const realOpen = h.store.mail.openMessage.bind(h.store.mail);
    let clientSawStart!: () => void;
    const started = new Promise<void>((r) => (clientSawStart = r));
    let streamed = false;
    h.store.mail.openMessage = async (user, mailbox, uid, range) => {
      const whole = Buffer.concat(await Readable.from(await realOpen(user, mailbox, uid, range)).toArray());
      const half = Math.floor(whole.length / 2);
      return Readable.from(
        (async function* () {
          yield whole.subarray(0, half);
          // The second half waits until the client has the first: only a streaming server gets there.
          streamed = await Promise.race([
            started.then(() => true),
            new Promise<boolean>((r) => setTimeout(() => r(false), 3000)),
          ]);
          yield whole.subarray(half);
        })(),
      );
    };
    c.socket.on('data', () => {
      if (c.socket.bytesRead > 1024 * 1024) clientSawStart();
    });
    const lines = await c.command('f', 'FETCH 1 (BODY.PEEK[])');
    assert.match(last(lines), /^f OK/);
    assert.ok(lines[0]!.includes(raw.slice(-200)), 'the whole message arrived');
    assert.equal(streamed, true, 'the client had the first half before the store read the second');
    c.close();
  });

  it('drops the connection when the store gives fewer octets than the literal announced', async () => {
    const c = await selected();
    const realOpen = h.store.mail.openMessage.bind(h.store.mail);
    h.store.mail.openMessage = async (user, mailbox, uid, range) => {
      const whole = Buffer.concat(await Readable.from(await realOpen(user, mailbox, uid, range)).toArray());
      return Readable.from([whole.subarray(0, whole.length - 10)]);
    };
    c.send('f FETCH 1 (BODY.PEEK[])\r\n');
    assert.equal(await c.closed(), true);
    c.close();
  });
});
