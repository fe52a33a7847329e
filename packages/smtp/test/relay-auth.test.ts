/**
 * `--relay-auth`: the relay worker authenticates to a smarthost (smtp-server over node:tls)
 * with AUTH PLAIN, or AUTH LOGIN where PLAIN is not offered (RFC 4954), only under TLS; and a
 * refused login defers the mail instead of bouncing it.
 */
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NativeTlsEngine, generateSelfSigned, type CertifiedKey } from '@postern/core';
import { openFsStore, type Store } from '@postern/store';
import { RelayWorker } from '../src/relay/index.js';
import { startSmtpServerUpstream, type Upstream } from './relay-helpers.js';

const SENDER = 'alice@local.test';
const MESSAGE = Buffer.from('From: alice@local.test\r\nSubject: smarthost auth\r\n\r\nHello\r\n');
const CREDENTIALS = { user: 'relay-user', password: 'relay secret' };

describe('relay worker: smarthost authentication', function () {
  let cert: CertifiedKey;
  let store: Store;
  let dir: string;
  const upstreams: Upstream[] = [];
  const workers: RelayWorker[] = [];

  before(async () => {
    cert = await generateSelfSigned({ hostname: 'localhost' });
  });
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-relay-auth-'));
    store = await openFsStore(dir, { domains: ['local.test'] });
    await store.accounts.addUser(SENDER, 'pw');
  });
  afterEach(async () => {
    for (const w of workers.splice(0)) await w.stop();
    for (const u of upstreams.splice(0)) await u.close();
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  /** A smarthost that requires AUTH with `methods`, recording each attempt. */
  async function smarthost(methods: string[]) {
    const attempts: Array<{ method: string; user: string; password: string; secure: boolean }> = [];
    const up = await startSmtpServerUpstream({
      key: cert.privateKeyPem,
      cert: cert.certificateChainPem,
      authOptional: false,
      authMethods: methods,
      onAuth(auth, session, cb) {
        attempts.push({
          method: auth.method,
          user: auth.username ?? '',
          password: auth.password ?? '',
          secure: session.secure,
        });
        if (auth.username === CREDENTIALS.user && auth.password === CREDENTIALS.password)
          return cb(null, { user: auth.username });
        cb(Object.assign(new Error('5.7.8 bad credentials'), { responseCode: 535 }));
      },
    });
    upstreams.push(up);
    return { up, attempts };
  }

  function worker(port: number, auth: { user: string; password: string }): RelayWorker {
    const w = new RelayWorker({
      store,
      hostname: 'gw.local.test',
      engine: new NativeTlsEngine(),
      smarthost: { host: '127.0.0.1', port, auth },
      serverName: 'localhost',
      ca: cert.certificateChainPem,
      replyTimeoutMs: 10_000,
    });
    workers.push(w);
    return w;
  }

  it('logs in with AUTH PLAIN after STARTTLS and delivers', async () => {
    const { up, attempts } = await smarthost(['PLAIN', 'LOGIN']);
    await store.queue.enqueue({ from: SENDER, to: ['bob@remote.test'] }, MESSAGE);
    assert.equal((await worker(up.port, CREDENTIALS).runOnce()).delivered, 1);
    assert.deepEqual(attempts, [{ method: 'PLAIN', ...CREDENTIALS, secure: true }]);
    assert.equal(up.received.length, 1);
  });

  it('uses AUTH LOGIN where PLAIN is not offered', async () => {
    const { up, attempts } = await smarthost(['LOGIN']);
    await store.queue.enqueue({ from: SENDER, to: ['bob@remote.test'] }, MESSAGE);
    assert.equal((await worker(up.port, CREDENTIALS).runOnce()).delivered, 1);
    assert.deepEqual(attempts, [{ method: 'LOGIN', ...CREDENTIALS, secure: true }]);
  });

  it('defers, never bounces, when the smarthost refuses the login', async () => {
    const { up } = await smarthost(['PLAIN']);
    const id = await store.queue.enqueue({ from: SENDER, to: ['bob@remote.test'] }, MESSAGE);
    const summary = await worker(up.port, { user: CREDENTIALS.user, password: 'wrong' }).runOnce();
    assert.deepEqual(summary, { claimed: 1, delivered: 0, deferred: 1, bounced: 0 });
    assert.match((await store.queue.get(id))?.lastError ?? '', /authentication failed.*535/);
    assert.equal((await store.mail.list(SENDER, 'INBOX')).length, 0, 'no bounce');
    assert.equal(up.received.length, 0);
  });
});
