import assert from 'node:assert/strict';
import { NntpTestClient } from './client.js';
import { PASSWORD, startRig, USER, type Rig } from './harness.js';

const plain = (user: string, password: string, authzid = '') =>
  Buffer.from(`${authzid}\0${user}\0${password}`).toString('base64');

describe('NNTP security: STARTTLS (RFC 4642) and AUTHINFO (RFC 4643)', () => {
  let rig: Rig;
  let c: NntpTestClient;
  beforeEach(async () => {
    rig = await startRig();
    c = await NntpTestClient.connect(rig.port);
    assert.match(await c.readLine(), /^200 /);
  });
  afterEach(async () => {
    c.destroy();
    await rig.close();
  });

  async function starttls(): Promise<void> {
    assert.match(await c.command('STARTTLS'), /^382 /);
    await c.startTls(rig.ca);
  }

  it('advertises STARTTLS but no AUTHINFO in plaintext, and refuses AUTHINFO with 483', async () => {
    const caps = await c.commandBlock('CAPABILITIES');
    assert.match(caps.status, /^101 /);
    assert.ok(caps.lines.includes('VERSION 2'));
    assert.ok(caps.lines.includes('STARTTLS'));
    assert.ok(!caps.lines.some((l) => l.startsWith('AUTHINFO')));
    assert.match(await c.command(`AUTHINFO USER ${USER}`), /^483 /);
    assert.match(await c.command(`AUTHINFO SASL PLAIN ${plain(USER, PASSWORD)}`), /^483 /);
    assert.match(await c.command('POST'), /^480 /);
  });

  it('re-advertises capabilities after STARTTLS and refuses a second STARTTLS', async () => {
    await starttls();
    const caps = await c.commandBlock('CAPABILITIES');
    assert.ok(!caps.lines.includes('STARTTLS'));
    assert.ok(caps.lines.includes('AUTHINFO USER SASL'));
    assert.ok(caps.lines.includes('SASL PLAIN'));
    assert.match(await c.command('STARTTLS'), /^502 /);
  });

  it('drops commands pipelined behind STARTTLS (command injection)', async () => {
    // One packet: STARTTLS and, in plaintext behind it, commands a man in the middle added.
    c.send('STARTTLS\r\nGROUP local.test\r\nAUTHINFO USER evil\r\n');
    assert.match(await c.readLine(), /^382 /);
    await c.startTls(rig.ca);
    // The first reply over TLS answers our DATE, not the injected GROUP or AUTHINFO.
    assert.match(await c.command('DATE'), /^111 \d{14}$/);
    // No group was selected and no AUTHINFO USER is pending.
    assert.match(await c.command('ARTICLE'), /^412 /);
    assert.match(await c.command('AUTHINFO PASS whatever'), /^482 /);
  });

  it('forgets the selected group at STARTTLS (RFC 4642 §2.2.2)', async () => {
    assert.match(await c.command('GROUP local.test'), /^211 /);
    await starttls();
    assert.match(await c.command('NEXT'), /^412 /);
  });

  it('authenticates with AUTHINFO USER/PASS under TLS, once', async () => {
    await starttls();
    assert.match(await c.command('AUTHINFO PASS x'), /^482 /);
    assert.match(await c.command(`AUTHINFO USER ${USER}`), /^381 /);
    assert.match(await c.command('AUTHINFO PASS wrong'), /^481 /);
    // A failure forgets the user: PASS alone is out of sequence again.
    assert.match(await c.command(`AUTHINFO PASS ${PASSWORD}`), /^482 /);
    assert.match(await c.command(`AUTHINFO USER ${USER}`), /^381 /);
    assert.match(await c.command(`AUTHINFO PASS ${PASSWORD}`), /^281 /);
    const caps = await c.commandBlock('CAPABILITIES');
    assert.ok(!caps.lines.some((l) => l.startsWith('AUTHINFO') || l.startsWith('SASL')));
    assert.match(await c.command(`AUTHINFO USER ${USER}`), /^502 /);
  });

  it('authenticates with SASL PLAIN, with and without an initial response', async () => {
    await starttls();
    assert.match(await c.command('AUTHINFO SASL CRAM-MD5'), /^503 /);
    assert.match(await c.command('AUTHINFO SASL PLAIN'), /^383 /);
    assert.match(await c.command('*'), /^481 /);
    assert.match(await c.command('AUTHINFO SASL PLAIN !!!'), /^504 /);
    assert.match(
      await c.command(`AUTHINFO SASL PLAIN ${plain(USER, PASSWORD, 'other@example.test')}`),
      /^481 /,
    );
    assert.match(await c.command('AUTHINFO SASL PLAIN'), /^383 /);
    assert.match(await c.command(plain(USER, PASSWORD)), /^281 /);
    assert.match(await c.command('STARTTLS'), /^502 /);
  });

  it('closes the session after too many failed logins', async () => {
    await starttls();
    for (let i = 0; i < 2; i++) {
      assert.match(await c.command(`AUTHINFO SASL PLAIN ${plain(USER, 'bad')}`), /^481 /);
    }
    assert.match(await c.command(`AUTHINFO SASL PLAIN ${plain(USER, 'bad')}`), /^481 .*closing/);
    assert.equal(await c.rest(), '');
  });

  it('serves nntps with implicit TLS', async () => {
    const tlsRig = await startRig({ implicitTls: true });
    const t = await NntpTestClient.connectTls(tlsRig.port, tlsRig.ca);
    try {
      assert.match(await t.readLine(), /^200 /);
      const caps = await t.commandBlock('CAPABILITIES');
      assert.ok(!caps.lines.includes('STARTTLS'));
      assert.match(await t.command(`AUTHINFO USER ${USER}`), /^381 /);
      assert.match(await t.command(`AUTHINFO PASS ${PASSWORD}`), /^281 /);
    } finally {
      t.destroy();
      await tlsRig.close();
    }
  });

  it('allows plaintext authentication only with allowInsecureAuth', async () => {
    const open = await startRig({ allowInsecureAuth: true });
    const t = await NntpTestClient.connect(open.port);
    try {
      await t.readLine();
      assert.ok((await t.commandBlock('CAPABILITIES')).lines.includes('AUTHINFO USER SASL'));
      assert.match(await t.command(`AUTHINFO SASL PLAIN ${plain(USER, PASSWORD)}`), /^281 /);
    } finally {
      t.destroy();
      await open.close();
    }
  });
});
