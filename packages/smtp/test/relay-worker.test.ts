import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { NativeTlsEngine, generateSelfSigned, type CertifiedKey } from '@postern/core';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openFsStore, type Store } from '@postern/store';
import { RelayWorker, type RelayWorkerOptions } from '../src/relay/index.js';
import { startScriptedUpstream, startSmtpServerUpstream, type Upstream } from './relay-helpers.js';

const SENDER = 'alice@local.test';
const MESSAGE = Buffer.from(
  'From: alice@local.test\r\nTo: bob@remote.test\r\nSubject: relay test\r\nMessage-ID: <relay-1@local.test>\r\n\r\nHello\r\n.starts with a dot\r\n',
);

describe('relay worker: delivery through an upstream (smtp-server, node:tls)', function () {
  let store: Store;
  let localhostCert: CertifiedKey;
  let wrongNameCert: CertifiedKey;
  const upstreams: Upstream[] = [];
  const workers: RelayWorker[] = [];

  before(async () => {
    localhostCert = await generateSelfSigned({ hostname: 'localhost' });
    wrongNameCert = await generateSelfSigned({ hostname: 'wrong.example' });
  });
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-relay-test-'));
    store = await openFsStore(dir, { domains: ['local.test'] });
    await store.accounts.addUser(SENDER, 'pw');
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    for (const u of upstreams.splice(0)) await u.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  function worker(port: number, extra: Partial<RelayWorkerOptions> = {}): RelayWorker {
    const w = new RelayWorker({
      store,
      hostname: 'gw.local.test',
      engine: new NativeTlsEngine(),
      smarthost: { host: '127.0.0.1', port },
      serverName: 'localhost',
      ca: localhostCert.certificateChainPem,
      replyTimeoutMs: 10_000,
      ...extra,
    });
    workers.push(w);
    return w;
  }

  it('delivers over verified TLS 1.3, byte for byte, and completes the item', async () => {
    const up = await startSmtpServerUpstream({
      key: localhostCert.privateKeyPem,
      cert: localhostCert.certificateChainPem,
    });
    upstreams.push(up);
    const id = await store.queue.enqueue(
      { from: SENDER, to: ['bob@remote.test', 'carol@remote.test'] },
      MESSAGE,
    );
    const summary = await worker(up.port).runOnce();
    assert.deepEqual(summary, { claimed: 1, delivered: 1, deferred: 0, bounced: 0 });
    assert.equal(up.received.length, 1, 'one transaction carries both recipients');
    assert.equal(up.received[0]!.tlsVersion, 'TLSv1.3');
    assert.deepEqual(up.received[0]!.to.sort(), ['bob@remote.test', 'carol@remote.test']);
    assert.equal(up.received[0]!.from, SENDER);
    assert.equal(up.received[0]!.message.toString('latin1'), MESSAGE.toString('latin1'));
    assert.equal(await store.queue.get(id), undefined, 'a delivered item leaves the queue');
  });

  it('retries after a 4xx and delivers exactly once', async () => {
    let refusals = 0;
    const up = await startSmtpServerUpstream({
      key: localhostCert.privateKeyPem,
      cert: localhostCert.certificateChainPem,
      onRcptTo(_addr, _session, cb) {
        if (refusals++ === 0) return cb(Object.assign(new Error('try again later'), { responseCode: 451 }));
        cb();
      },
    });
    upstreams.push(up);
    const id = await store.queue.enqueue({ from: SENDER, to: ['bob@remote.test'] }, MESSAGE);
    const w = worker(up.port);
    assert.equal((await w.runOnce()).deferred, 1);
    const item = await store.queue.get(id);
    assert.ok(item, 'still queued');
    assert.match(item.lastError ?? '', /451/);
    assert.ok(item.nextAttemptAt.getTime() > Date.now(), 'retried later, not at once');
    assert.equal((await w.runOnce()).claimed, 0, 'not due yet');
    assert.equal(await store.queue.flush(), 1);
    assert.equal((await w.runOnce()).delivered, 1);
    assert.equal(up.received.length, 1);
    assert.equal(await store.queue.get(id), undefined);
  });

  it('bounces a 5xx to the sender as an RFC 3464 report', async () => {
    const up = await startSmtpServerUpstream({
      key: localhostCert.privateKeyPem,
      cert: localhostCert.certificateChainPem,
      onRcptTo(addr, _session, cb) {
        if (addr.address.startsWith('nobody'))
          return cb(Object.assign(new Error('5.1.1 no such user'), { responseCode: 550 }));
        cb();
      },
    });
    upstreams.push(up);
    await store.queue.enqueue({ from: SENDER, to: ['nobody@remote.test', 'bob@remote.test'] }, MESSAGE);
    const summary = await worker(up.port).runOnce();
    assert.equal(summary.bounced, 1);
    assert.deepEqual(up.received[0]!.to, ['bob@remote.test'], 'the other recipient is still delivered');
    const inbox = await store.mail.list(SENDER, 'INBOX');
    assert.equal(inbox.length, 1, 'the bounce reached the sender');
    const chunks: Buffer[] = [];
    for await (const c of await store.mail.openMessage(SENDER, 'INBOX', inbox[0]!.uid))
      chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    // RFC 3464 §2: multipart/report; report-type=delivery-status, read by an independent parser
    // (not the store's indexer, so this tests the bounce, whatever the backend).
    const parsed = await simpleParser(Buffer.concat(chunks));
    const type = parsed.headers.get('content-type') as { value: string; params: Record<string, string> };
    assert.equal(type.value, 'multipart/report');
    assert.equal(type.params['report-type'], 'delivery-status');
    // mailparser shows the delivery-status part as text: check it is there as a part of its own.
    assert.match(text, /\r\n--[^\r\n]+\r\nContent-Type: message\/delivery-status\r\n/);
    assert.match(text, /Final-Recipient: rfc822; nobody@remote\.test/);
    assert.match(text, /Action: failed/);
    assert.match(text, /Status: 5\.\d\.\d/);
    assert.doesNotMatch(text, /Final-Recipient: rfc822; bob@remote\.test/);
    assert.match(text, /Subject: relay test/, 'the original headers are returned');
  });

  it('never bounces mail from the null sender', async () => {
    const up = await startSmtpServerUpstream({
      key: localhostCert.privateKeyPem,
      cert: localhostCert.certificateChainPem,
      onMailFrom(_a, _s, cb) {
        cb(Object.assign(new Error('go away'), { responseCode: 554 }));
      },
    });
    upstreams.push(up);
    await store.queue.enqueue({ from: '', to: ['bob@remote.test'] }, MESSAGE);
    assert.equal((await worker(up.port).runOnce()).bounced, 1);
    assert.equal((await store.queue.list()).length, 0, 'no bounce queued for the null sender');
    assert.equal((await store.mail.list(SENDER, 'INBOX')).length, 0);
  });

  it('retries a connection dropped mid-DATA, with no duplicate after success', async () => {
    const up = await startScriptedUpstream((attempt) => attempt === 1);
    upstreams.push(up);
    const id = await store.queue.enqueue({ from: SENDER, to: ['bob@remote.test'] }, MESSAGE);
    const w = worker(up.port, { tls: 'off' });
    assert.equal((await w.runOnce()).deferred, 1);
    assert.match((await store.queue.get(id))?.lastError ?? '', /lost/);
    await store.queue.flush();
    assert.equal((await w.runOnce()).delivered, 1);
    assert.equal(up.received.length, 1, 'delivered once');
    assert.equal(up.received[0]!.message.toString('latin1'), MESSAGE.toString('latin1'));
  });

  it('defers, with the reason recorded, when the certificate is for another name and TLS is required', async () => {
    const up = await startSmtpServerUpstream({
      key: wrongNameCert.privateKeyPem,
      cert: wrongNameCert.certificateChainPem,
    });
    upstreams.push(up);
    const id = await store.queue.enqueue({ from: SENDER, to: ['bob@remote.test'] }, MESSAGE);
    const w = worker(up.port, { ca: wrongNameCert.certificateChainPem, tls: 'required' });
    assert.equal((await w.runOnce()).deferred, 1);
    assert.equal(up.received.length, 0);
    const item = await store.queue.get(id);
    assert.match(item?.lastError ?? '', /TLS|certificate|altnames|host/i);
  });

  it('defers when TLS is required and the upstream offers no STARTTLS', async () => {
    const up = await startScriptedUpstream(() => false);
    upstreams.push(up);
    const id = await store.queue.enqueue({ from: SENDER, to: ['bob@remote.test'] }, MESSAGE);
    assert.equal((await worker(up.port, { tls: 'required' }).runOnce()).deferred, 1);
    assert.match((await store.queue.get(id))?.lastError ?? '', /STARTTLS/);
    assert.equal(up.received.length, 0);
  });

  it('sends every queued message for one destination over one connection', async () => {
    const up = await startScriptedUpstream(() => false);
    upstreams.push(up);
    for (let i = 0; i < 3; i++)
      await store.queue.enqueue({ from: SENDER, to: [`r${i}@remote.test`] }, MESSAGE);
    assert.equal((await worker(up.port, { tls: 'off' }).runOnce()).delivered, 3);
    assert.equal(up.received.length, 3);
    assert.equal(up.connections(), 1);
  });

  it('goes to the MX hosts of the recipient domain without a smarthost', async () => {
    const up = await startScriptedUpstream(() => false);
    upstreams.push(up);
    await store.queue.enqueue({ from: SENDER, to: ['bob@remote.test'] }, MESSAGE);
    const asked: string[] = [];
    const w = worker(up.port, {
      smarthost: undefined,
      mxPort: up.port,
      resolveMx: async (domain) => {
        asked.push(domain);
        return [
          { exchange: '127.0.0.2', priority: 20 },
          { exchange: '127.0.0.1', priority: 10 },
        ];
      },
    });
    assert.equal(
      (await w.runOnce()).delivered,
      1,
      'opportunistic TLS: plaintext when STARTTLS is not offered',
    );
    assert.deepEqual(asked, ['remote.test']);
  });
});
