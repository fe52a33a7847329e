/** BINARY (RFC 3516): transfer decoding, BINARY[] / BINARY.SIZE[] and literal8 in APPEND. */
import assert from 'node:assert/strict';
import { decodeQuotedPrintable, decodeTransfer } from '../src/binary.js';
import { ImapError } from '../src/index.js';
import { ALICE, ALICE_PW, startHarness, type Harness } from './harness.js';
import { RawClient } from './client.js';

describe('imap BINARY', () => {
  it('decodes quoted-printable (RFC 2045 §6.7) and base64', () => {
    assert.equal(
      decodeQuotedPrintable(Buffer.from('caf=C3=A9 soft=\r\nbreak =3D x=\n y = z')).toString(),
      'café softbreak = x y = z',
    );
    assert.equal(decodeTransfer('BASE64', Buffer.from('AAEC\r\n/w==')).toString('hex'), '000102ff');
    assert.equal(decodeTransfer('8bit', Buffer.from('x')).toString(), 'x');
    assert.throws(
      () => decodeTransfer('X-UUENCODE', Buffer.alloc(0)),
      (e: unknown) => e instanceof ImapError && e.code === 'UNKNOWN-CTE',
    );
  });

  describe('over the wire', () => {
    let h: Harness;
    beforeEach(async () => {
      h = await startHarness({ allowInsecureAuth: true });
    });
    afterEach(async () => {
      await h.close();
    });

    it('answers BINARY.PEEK[1], BINARY.SIZE[1] and takes a literal8 APPEND', async () => {
      const payload = Buffer.from([0x00, 0x01, 0x02, 0xff, 0x41]);
      const msg = `From: bob@example.org\r\nSubject: bin\r\nContent-Transfer-Encoding: base64\r\n\r\n${payload.toString('base64')}\r\n`;
      const c = await RawClient.connect(h.port);
      await c.readLine();
      await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`);
      c.send(`a APPEND INBOX ~{${msg.length}+}\r\n${msg}\r\n`);
      assert.match((await c.until('a')).at(-1)!, /^a OK \[APPENDUID/);
      await c.command('s', 'SELECT INBOX');
      c.send('f FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\n');
      assert.equal(await c.readLine(), '* 1 FETCH (BINARY.SIZE[1] 5 BINARY[1] ~{5}');
      assert.deepEqual(await c.readBytes(5), payload);
      assert.equal(await c.readLine(), ')');
      assert.equal(await c.readLine(), 'f OK FETCH completed');
      assert.deepEqual((await h.store.mail.list(ALICE, 'INBOX'))[0].flags, []); // PEEK
      c.close();
    });

    it('drops whitespace at the end of quoted-printable lines (RFC 2045 §6.7 rule 3) in BINARY and BINARY.SIZE', async () => {
      // Trailing spaces and tabs are transport padding; "=" then whitespace is a soft break.
      const qp = ['one  ', 'two=', '', 'tab\t=', 'bed', 'mix\t \t= ', '=41', 'sp = \t', 'end\t', ''].join(
        '\r\n',
      );
      const want = 'one\r\ntwo\r\ntab\tbed\r\nmix\t \tA\r\nsp end\r\n';
      const msg = `From: bob@example.org\r\nSubject: qp\r\nContent-Type: text/x-myown\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n${qp}`;
      await h.store.mail.append(ALICE, 'INBOX', msg);
      const c = await RawClient.connect(h.port);
      await c.readLine();
      await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`);
      await c.command('s', 'SELECT INBOX');
      c.send('f FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\n');
      assert.equal(await c.readLine(), `* 1 FETCH (BINARY.SIZE[1] ${want.length} BINARY[1] {${want.length}}`);
      assert.equal((await c.readBytes(want.length)).toString('latin1'), want);
      assert.equal(await c.readLine(), ')');
      assert.equal(await c.readLine(), 'f OK FETCH completed');
      c.close();
    });
  });
});
