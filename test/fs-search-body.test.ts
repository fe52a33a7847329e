/**
 * SEARCH BODY and TEXT on the fs store read the decoded text that the index keeps compressed
 * (issue 19, item 7): a word inside a base64 part is found over a real IMAP connection, and
 * a word that is not there is not.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startGateway, type Gateway } from '@postern/server';

const USER = { address: 'sue@example.test', password: 'pw-sue' };

/** Send `lines` (each followed by CRLF) and collect everything until `done` matches. */
function converse(port: number, lines: string[], done: RegExp): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => s.write(lines.map((l) => l + '\r\n').join('')));
    let got = '';
    s.setEncoding('utf8');
    s.on('data', (d: string) => {
      got += d;
      if (done.test(got)) {
        s.destroy();
        resolve(got);
      }
    });
    s.on('error', reject);
    s.on('close', () => reject(new Error(`closed: ${got}`)));
  });
}

describe('SEARCH BODY on the fs store', function () {
  let dir: string;
  let gw: Gateway;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'postern-search-'));
    gw = await startGateway({
      store: 'fs',
      dataDir: dir,
      domains: ['example.test'],
      users: [USER],
      allowInsecureAuth: true,
      relay: 'capture',
    });
    const body = Buffer.from(`${'filler words of a long letter '.repeat(2000)}the hidden zanzibar word\r\n`);
    const message = [
      'Subject: encoded',
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: base64',
      '',
      ...(body.toString('base64').match(/.{1,76}/g) ?? []),
    ].join('\r\n');
    await gw.store.mail.deliver([{ user: USER.address }], message);
  });
  after(async () => {
    await gw.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('finds a word of a base64 body part with SEARCH BODY and TEXT, and not a missing one', async () => {
    const out = await converse(
      gw.ports.imap!,
      [
        `a LOGIN ${USER.address} ${USER.password}`,
        'b SELECT INBOX',
        'c SEARCH BODY zanzibar',
        'd SEARCH TEXT ZANZIBAR',
        'e SEARCH BODY timbuktu',
        'f LOGOUT',
      ],
      /^f OK/m,
    );
    assert.match(out, /\* SEARCH 1\r\nc OK/);
    assert.match(out, /\* SEARCH 1\r\nd OK/);
    assert.match(out, /\* SEARCH\r\ne OK/);
  });
});
