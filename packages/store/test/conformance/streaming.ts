/** A big message goes in as a stream and comes back byte for byte, with its index offsets. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { type Ctx, U } from './context.js';

const MIB = 1024 * 1024;
const BIG = 24 * MIB;

/** A multipart message: a text part, then a base64 attachment of about BIG bytes. */
function* bigMessage(): Generator<Buffer> {
  yield Buffer.from(
    'Subject: big\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=BIG\r\n\r\n--BIG\r\nContent-Type: text/plain\r\n\r\nsee attachment\r\n--BIG\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
  );
  const line = Buffer.from('QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5ejAx\r\n');
  const block = Buffer.concat(Array.from({ length: 1024 }, () => line));
  for (let n = 0; n < BIG; n += block.length) yield block;
  yield Buffer.from('--BIG--\r\n');
}

async function digest(stream: AsyncIterable<Buffer>): Promise<{ hash: string; bytes: number }> {
  const h = createHash('sha256');
  let bytes = 0;
  for await (const c of stream) {
    h.update(c);
    bytes += c.length;
  }
  return { hash: h.digest('hex'), bytes };
}

export function streamingConformance(ctx: () => Ctx): void {
  describe('big messages', function () {
    this.timeout(120_000);
    it('a big message streamed in is read back byte for byte, its parts found by offset', async () => {
      const { s } = ctx();
      const want = await digest(Readable.from(bigMessage()));
      const { uid } = await s.mail.append(U, 'INBOX', Readable.from(bigMessage()));
      const [m] = await s.mail.list(U, 'INBOX');
      assert.equal(m!.size, want.bytes);
      assert.deepEqual(await digest(await s.mail.openMessage(U, 'INBOX', uid)), want);
      const idx = await s.mail.getIndex(U, 'INBOX', uid);
      assert.equal(idx?.size, want.bytes);
      const att = idx!.root.parts[1]!;
      assert.equal(att.encoding, 'BASE64');
      const head = Buffer.concat(
        await (
          await s.mail.openMessage(U, 'INBOX', uid, { start: att.bodyStart, end: att.bodyStart + 8 })
        ).toArray(),
      );
      assert.equal(head.toString(), 'QUJDREVG');
      const tail = Buffer.concat(
        await (
          await s.mail.openMessage(U, 'INBOX', uid, { start: att.bodyEnd - 4, end: att.bodyEnd + 9 })
        ).toArray(),
      );
      assert.equal(tail.toString(), 'ejAx\r\n--BIG--');
    });
  });
}
