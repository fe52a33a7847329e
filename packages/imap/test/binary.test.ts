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

    it('stores a literal8 APPEND part holding NUL as base64: BODY[1] has no NUL, BINARY[1] the octets', async () => {
      const payload = Buffer.from([0x00, 0x2d, 0xe4, 0x0d, 0x0a, 0x0d, 0x0a]);
      const head = [
        'From: bob@example.org',
        'Mime-Version: 1.0',
        'Content-Type: multipart/mixed; boundary=b',
        '',
        '--b',
        'Content-Type: application/octet-stream',
        'Content-Transfer-Encoding: binary',
        '',
        '',
      ].join('\r\n');
      const msg = Buffer.concat([Buffer.from(head), payload, Buffer.from('\r\n--b--\r\n')]);
      const c = await RawClient.connect(h.port);
      await c.readLine();
      await c.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`);
      c.send(Buffer.concat([Buffer.from(`a APPEND INBOX ~{${msg.length}+}\r\n`), msg, Buffer.from('\r\n')]));
      assert.match((await c.until('a')).at(-1)!, /^a OK \[APPENDUID/);
      await c.command('s', 'SELECT INBOX');
      const b64 = `${payload.toString('base64')}\r\n`;
      c.send('f FETCH 1 (BODY.PEEK[1] BODY.PEEK[1.MIME])\r\n');
      assert.equal(await c.readLine(), `* 1 FETCH (BODY[1] {${b64.length}}`);
      assert.equal((await c.readBytes(b64.length)).toString('latin1'), b64);
      const mime = 'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n';
      assert.equal(await c.readLine(), ` BODY[1.MIME] {${mime.length}}`);
      assert.equal((await c.readBytes(mime.length)).toString('latin1'), mime);
      assert.equal(await c.readLine(), ')');
      assert.equal(await c.readLine(), 'f OK FETCH completed');
      c.send('g FETCH 1 (BINARY.SIZE[1] BINARY.PEEK[1])\r\n');
      assert.equal(
        await c.readLine(),
        `* 1 FETCH (BINARY.SIZE[1] ${payload.length} BINARY[1] ~{${payload.length}}`,
      );
      assert.deepEqual(await c.readBytes(payload.length), payload);
      assert.equal(await c.readLine(), ')');
      assert.equal(await c.readLine(), 'g OK FETCH completed');
      c.close();
    });
  });
});
