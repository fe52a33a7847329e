import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { promisify } from 'node:util';
import nodemailer from 'nodemailer';
import { requireProgram } from '@postern/core';
import { BOB, CAROL, inbox, startSmtp, withoutTrace, type SmtpHarness } from './harness.js';

const run = promisify(execFile);

function transport(h: SmtpHarness, extra: Record<string, unknown> = {}) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port: h.ports.submission,
    secure: false,
    requireTLS: true,
    tls: { ca: h.ca, servername: 'localhost' },
    auth: { user: BOB.address, pass: BOB.password },
    ...extra,
  } as never);
}

describe('SMTP with real clients', function () {
  this.timeout(60_000);
  let h: SmtpHarness;
  before(async () => {
    h = await startSmtp({ maxMessageSize: 40 * 1024 * 1024 });
  });
  after(async () => h.close());

  it('nodemailer: STARTTLS + AUTH PLAIN, the raw message stored byte for byte', async () => {
    const raw =
      'From: bob@example.test\r\nTo: carol@example.test\r\nSubject: nodemailer\r\nMessage-ID: <nm-1@example.test>\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n\r\nhello\r\n.dot\r\n';
    const before = (await inbox(h.store, CAROL.address)).length;
    const info = await transport(h, { authMethod: 'PLAIN' }).sendMail({
      envelope: { from: BOB.address, to: [CAROL.address] },
      raw,
    });
    assert.deepEqual(info.accepted, [CAROL.address]);
    const all = await inbox(h.store, CAROL.address);
    assert.equal(all.length, before + 1);
    assert.equal(withoutTrace(all.at(-1)!).toString(), raw);
  });

  it('nodemailer: AUTH LOGIN, and Message-ID and Date added when missing', async () => {
    await transport(h, { authMethod: 'LOGIN' }).sendMail({
      envelope: { from: BOB.address, to: [CAROL.address] },
      raw: 'From: bob@example.test\r\nTo: carol@example.test\r\nSubject: bare\r\n\r\nno id\r\n',
    });
    const text = (await inbox(h.store, CAROL.address)).at(-1)!.toString();
    assert.match(text, /^Message-ID: <[0-9a-f]+@mx\.example\.test>\r$/m);
    assert.match(text, /^Date: \w{3}, \d+ \w{3} \d{4} /m);
  });

  it('nodemailer: SMTPUTF8 to an internationalised address, 8-bit headers and body', async () => {
    await h.store.accounts.addUser('jörg@example.test', 'jörg-pw');
    const raw =
      'From: bob@example.test\r\nTo: jörg@example.test\r\nSubject: Grüße aus Köln ✉\r\nMessage-ID: <u8@x>\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n\r\nÜberraschung ☃\r\n';
    const info = await transport(h).sendMail({
      envelope: { from: BOB.address, to: ['jörg@example.test'] },
      raw: Buffer.from(raw),
    });
    assert.deepEqual(info.accepted, ['jörg@example.test']);
    const [msg] = await inbox(h.store, 'jörg@example.test');
    assert.equal(withoutTrace(msg!).toString('utf8'), raw);
    assert.match(
      msg!.toString(),
      /with UTF8SMTPSA/,
      'the Received header says SMTPUTF8 was used (RFC 6531 §4.3)',
    );
  });

  it('nodemailer: a 30 MB message arrives whole', async () => {
    const size = 30 * 1024 * 1024;
    const line = 'z'.repeat(78) + '\r\n';
    const head =
      'From: bob@example.test\r\nTo: carol@example.test\r\nSubject: big\r\nMessage-ID: <big@x>\r\nDate: Mon, 23 Nov 2026 08:00:00 +0000\r\n\r\n';
    const count = Math.floor((size - head.length) / line.length);
    const raw = Readable.from(
      (function* () {
        yield Buffer.from(head);
        const block = Buffer.from(line.repeat(1000));
        for (let i = 0; i < count; i += 1000)
          yield i + 1000 <= count ? block : Buffer.from(line.repeat(count - i));
      })(),
    );
    await transport(h).sendMail({ envelope: { from: BOB.address, to: [CAROL.address] }, raw });
    const metas = await h.store.mail.list(CAROL.address, 'INBOX');
    const last = metas.at(-1)!;
    const msg = (await inbox(h.store, CAROL.address)).at(-1)!;
    assert.equal(withoutTrace(msg).length, head.length + count * line.length);
    assert.equal(last.size, msg.length);
  });

  it('Python smtplib: STARTTLS, login, sendmail with SMTPUTF8 options', async function () {
    requireProgram(this, 'python3');
    const dir = mkdtempSync(join(tmpdir(), 'smtplib-'));
    writeFileSync(join(dir, 'ca.pem'), h.ca);
    const script = `
import smtplib, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
s = smtplib.SMTP('127.0.0.1', int(sys.argv[1]), local_hostname='py.test')
s.starttls(context=ctx, server_hostname='localhost') if False else None
s.ehlo()
s.starttls(context=ctx)
s.ehlo()
s.login('${BOB.address}', '${BOB.password}')
msg = 'From: ${BOB.address}\\r\\nTo: ${CAROL.address}\\r\\nSubject: smtplib\\r\\nMessage-ID: <py@x>\\r\\nDate: Mon, 23 Nov 2026 08:00:00 +0000\\r\\n\\r\\nfrom python \\u00e9\\r\\n'
refused = s.sendmail('${BOB.address}', ['${CAROL.address}'], msg.encode('utf-8'), mail_options=['SMTPUTF8', 'BODY=8BITMIME'])
print('refused', refused)
s.quit()
`;
    writeFileSync(join(dir, 'send.py'), script);
    // smtplib verifies against the name it connected to; the certificate carries 127.0.0.1 too.
    const { stdout } = await run('python3', [
      join(dir, 'send.py'),
      String(h.ports.submission),
      join(dir, 'ca.pem'),
    ]);
    assert.match(stdout, /refused \{\}/);
    const text = (await inbox(h.store, CAROL.address)).at(-1)!.toString('utf8');
    assert.match(text, /from python é/);
    assert.match(text, /with UTF8SMTPSA/);
  });

  it('swaks: STARTTLS, AUTH PLAIN and PIPELINING', async function () {
    requireProgram(this, 'swaks');
    const { stdout } = await run('swaks', [
      '--server',
      `127.0.0.1:${h.ports.submission}`,
      '--from',
      BOB.address,
      '--to',
      CAROL.address,
      '--tls',
      '--auth',
      'PLAIN',
      '--auth-user',
      BOB.address,
      '--auth-password',
      BOB.password,
      '--pipeline',
      '--header',
      'Subject: swaks test',
      '--body',
      'from swaks',
    ]);
    assert.match(stdout, /<~ {1,2}250 2\.0\.0 OK: queued as/);
    const text = (await inbox(h.store, CAROL.address)).at(-1)!.toString();
    assert.match(text, /Subject: swaks test/);
    assert.match(text, /with ESMTPSA/);
  });

  it('swaks: an unauthenticated relay attempt at the MX is refused', async function () {
    requireProgram(this, 'swaks');
    const r = await run(
      'swaks',
      [
        '--server',
        `127.0.0.1:${h.ports.mx}`,
        '--from',
        'a@remote.test',
        '--to',
        'victim@elsewhere.test',
        '--tls',
      ],
      {},
    ).catch((e: { stdout: string }) => e);
    // swaks marks an error reply `<**` in plaintext and `<~*` under TLS.
    assert.match(r.stdout, /<[*~]\* 550 5\.7\.1/);
  });
});
