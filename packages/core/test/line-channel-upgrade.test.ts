/**
 * The STARTTLS point: `upgrade()` drops every plaintext octet received before the handshake, on
 * the server side (command injection: CVE-2011-0411, CVE-2021-38084) and on the client side
 * (response injection: CVE-2021-38371). Real TLS peers (node:tls) on loopback TCP.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import * as tls from 'node:tls';
import { LineChannel } from '../src/channel/line-channel.js';
import { CertificateStore } from '../src/certs/certificate-store.js';
import { generateSelfSigned } from '../src/certs/self-signed.js';
import { ChannelClosedError, UpgradeError } from '../src/errors.js';
import type { CertifiedKey } from '../src/tls/engine.js';
import { NativeTlsEngine } from '../src/tls/native.js';
import { FakeStream, until } from './helpers/fake-stream.js';
import { readBytes, socketPair, type SocketPair } from './helpers/socket-pair.js';

const HOST = 'mail.postern.test';

describe('LineChannel.upgrade', () => {
  let key: CertifiedKey;
  let pair: SocketPair;
  const engine = new NativeTlsEngine();

  before(async () => {
    key = await generateSelfSigned({ hostname: HOST });
  });
  beforeEach(async () => {
    pair = await socketPair();
  });
  afterEach(async () => {
    await pair.close();
  });

  /** The client half of STARTTLS: wait for the go-ahead, then a TLS handshake on the socket. */
  async function clientHandshake(goAhead: string): Promise<tls.TLSSocket> {
    const reply = await readBytes(pair.client, goAhead.length);
    assert.equal(reply.toString('latin1'), goAhead, 'the go-ahead arrives in plaintext, alone');
    const secure = tls.connect({ socket: pair.client, ca: key.certificateChainPem, servername: HOST });
    await once(secure, 'secureConnect');
    return secure;
  }

  it('server side: drops commands pipelined behind STARTTLS in the same packet', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    const injected = 'INJECTED\r\n';
    pair.client.write('STARTTLS\r\n' + injected);
    assert.equal(await channel.readLine(), 'STARTTLS');
    assert.equal(channel.bufferedBytes, injected.length, 'the injection arrived with STARTTLS');
    const upgrading = channel.upgrade(
      engine,
      { role: 'server', certificates: new CertificateStore([key]) },
      '220 go ahead\r\n',
    );
    const secure = await clientHandshake('220 go ahead\r\n');
    const result = await upgrading;
    assert.equal(result.discardedBytes, injected.length);
    assert.equal(channel.bufferedBytes, 0);
    assert.equal(channel.isSecure, true);
    assert.equal(channel.tls, result.session);
    assert.equal(result.session.engine, 'native');
    secure.write('AFTER\r\n');
    assert.equal(await channel.readLine(), 'AFTER');
    const answer = readBytes(secure, 8);
    await channel.write('250 ok\r\n');
    assert.equal((await answer).toString(), '250 ok\r\n');
    secure.destroy();
  });

  it('server side: drops plaintext that arrived in a later packet before the upgrade', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    pair.client.write('STARTTLS\r\n');
    assert.equal(await channel.readLine(), 'STARTTLS');
    const late = 'RCPT TO:<victim@example.org>\r\n';
    pair.client.write(late);
    await until(() => channel.bufferedBytes === late.length, 'the late injection');
    const upgrading = channel.upgrade(
      engine,
      { role: 'server', certificates: new CertificateStore([key]) },
      '220 go\r\n',
    );
    const secure = await clientHandshake('220 go\r\n');
    assert.equal((await upgrading).discardedBytes, late.length);
    secure.write('QUIT\r\n');
    assert.equal(await channel.readLine(), 'QUIT');
    secure.destroy();
  });

  it('server side: reports nothing discarded for a clean STARTTLS', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    pair.client.write('STARTTLS\r\n');
    assert.equal(await channel.readLine(), 'STARTTLS');
    const upgrading = channel.upgrade(
      engine,
      { role: 'server', certificates: new CertificateStore([key]) },
      '220 go\r\n',
    );
    const secure = await clientHandshake('220 go\r\n');
    assert.equal((await upgrading).discardedBytes, 0);
    secure.destroy();
  });

  it('client side: drops a response injected behind the 220 and reads only what came over TLS', async () => {
    const serverContext = tls.createSecureContext({ cert: key.certificateChainPem, key: key.privateKeyPem });
    const channel = new LineChannel(pair.client, { idleTimeoutMs: 0 });
    const injected = '250 evil\r\n';
    pair.server.write('220 ready\r\n' + injected);
    assert.equal(await channel.readLine(), '220 ready');
    const serverTls = new tls.TLSSocket(pair.server, { isServer: true, secureContext: serverContext });
    const serverSecure = once(serverTls, 'secure');
    const result = await channel.upgrade(engine, {
      role: 'client',
      serverName: HOST,
      ca: key.certificateChainPem,
    });
    await serverSecure;
    assert.equal(result.discardedBytes, injected.length);
    assert.equal(result.session.peerVerified, true);
    assert.equal(result.session.peerCertificates.length, 1);
    serverTls.write('250 real\r\n');
    assert.equal(await channel.readLine(), '250 real', 'the injected 250 was never read');
    serverTls.destroy();
  });

  it('fails with UpgradeError and closes the channel when the handshake fails', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    pair.client.write('STARTTLS\r\n');
    assert.equal(await channel.readLine(), 'STARTTLS');
    const upgrading = channel.upgrade(
      engine,
      { role: 'server', certificates: new CertificateStore([key]) },
      '220 go\r\n',
    );
    await readBytes(pair.client, 8);
    pair.client.write('this is not a TLS record\r\n');
    await assert.rejects(upgrading, UpgradeError);
    assert.equal(channel.isClosed, true);
    assert.equal(channel.isSecure, false);
    await assert.rejects(channel.readLine(), UpgradeError);
  });

  it('refuses to upgrade with a read pending, twice, or after close', async () => {
    const channel = new LineChannel(pair.server, { idleTimeoutMs: 0 });
    const pending = channel.readLine();
    await assert.rejects(
      channel.upgrade(engine, { role: 'server', certificates: new CertificateStore([key]) }),
      /read in progress/,
    );
    pair.client.write('STARTTLS\r\n');
    assert.equal(await pending, 'STARTTLS');
    const upgrading = channel.upgrade(
      engine,
      { role: 'server', certificates: new CertificateStore([key]) },
      '220 go\r\n',
    );
    await assert.rejects(
      channel.upgrade(engine, { role: 'server', certificates: new CertificateStore([key]) }),
      UpgradeError,
    );
    const secure = await clientHandshake('220 go\r\n');
    await upgrading;
    await assert.rejects(
      channel.upgrade(engine, { role: 'server', certificates: new CertificateStore([key]) }),
      /already secure/,
    );
    secure.destroy();
    await channel.closed();
    await assert.rejects(channel.readLine(), ChannelClosedError);
    await assert.rejects(
      channel.upgrade(engine, { role: 'server', certificates: new CertificateStore([key]) }),
      UpgradeError,
    );
  });

  it('turns a socket error while writing the go-ahead into UpgradeError, not a crash', async () => {
    const stream = new FakeStream();
    const channel = new LineChannel(stream, { idleTimeoutMs: 0 });
    stream.feed('STARTTLS\r\n');
    assert.equal(await channel.readLine(), 'STARTTLS');
    stream.failWrites = new Error('write EPIPE');
    await assert.rejects(
      channel.upgrade(engine, { role: 'server', certificates: new CertificateStore([key]) }, '220 go\r\n'),
      (err: unknown) => err instanceof UpgradeError && /EPIPE/.test(err.message),
    );
    assert.equal(channel.isClosed, true);
  });
});
