/**
 * End to end with real clients: Python's poplib, fetchmail and curl, over STLS and pop3s.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile, chmod } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { requireProgram, TsTlsEngine } from '@postern/core';
import { ALICE, ALICE_PW, MESSAGES, startHarness, type Harness } from './harness.js';

const run = promisify(execFile);

const POPLIB_SCRIPT = `
import base64, json, poplib, ssl, sys
port, cafile, user, password, mode = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
ctx = ssl.create_default_context(cafile=cafile)
if mode == 'implicit':
    p = poplib.POP3_SSL('localhost', int(port), context=ctx)
else:
    p = poplib.POP3('localhost', int(port))
    before = p.capa()
    p.stls(context=ctx)
out = {'capa': sorted(p.capa().keys())}
p.user(user)
p.pass_(password)
out['stat'] = list(p.stat())
out['list'] = [l.decode() for l in p.list()[1]]
out['uidl'] = [l.decode() for l in p.uidl()[1]]
def whole(lines):
    return base64.b64encode(b''.join(l + b'\\r\\n' for l in lines)).decode()
out['retr'] = [whole(p.retr(i + 1)[1]) for i in range(out['stat'][0])]
out['top'] = whole(p.top(2, 1)[1])
out['dele'] = p.dele(1).decode()
out['quit'] = p.quit().decode()
print(json.dumps(out))
`;

const POPLIB_LIST_SCRIPT = `
import base64, json, poplib, ssl, sys
port, cafile, user, password = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
p = poplib.POP3('localhost', int(port))
p.stls(context=ssl.create_default_context(cafile=cafile))
p.user(user)
p.pass_(password)
stat = list(p.stat())
retr = base64.b64encode(b''.join(l + b'\\r\\n' for l in p.retr(1)[1])).decode()
p.quit()
print(json.dumps({'stat': stat, 'retr': retr}))
`;

describe('pop3 interop', function () {
  let h: Harness;
  let dir: string;
  let caFile: string;

  beforeEach(async () => {
    h = await startHarness();
    await h.store.mail.append(ALICE, 'INBOX', MESSAGES.plain);
    await h.store.mail.append(ALICE, 'INBOX', MESSAGES.dotty);
    dir = await mkdtemp(join(tmpdir(), 'postern-pop3-'));
    caFile = join(dir, 'ca.pem');
    await writeFile(caFile, h.ca);
  });

  afterEach(async () => {
    await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function remaining(): Promise<string[]> {
    await h.settled();
    return (await h.store.mail.list(ALICE, 'INBOX')).map((m) => String(m.uid));
  }

  for (const mode of ['stls', 'implicit'] as const) {
    it(`python poplib (${mode}): STLS, login, STAT, LIST, UIDL, RETR, TOP, DELE, QUIT`, async function () {
      requireProgram(this, 'python3');
      const port = mode === 'stls' ? h.port : h.tlsPort;
      const info = await h.store.mail.getMailbox(ALICE, 'INBOX');
      const uids = (await h.store.mail.list(ALICE, 'INBOX')).map((m) => m.uid);
      const { stdout } = await run('python3', [
        '-c',
        POPLIB_SCRIPT,
        String(port),
        caFile,
        ALICE,
        ALICE_PW,
        mode,
      ]);
      const out = JSON.parse(stdout) as Record<string, unknown>;
      const plain = Buffer.from(MESSAGES.plain);
      const dotty = Buffer.from(MESSAGES.dotty);
      assert.ok((out.capa as string[]).includes('UIDL'));
      assert.ok(!(out.capa as string[]).includes('STLS'));
      assert.deepEqual(out.stat, [2, plain.length + dotty.length]);
      assert.deepEqual(out.list, [`1 ${plain.length}`, `2 ${dotty.length}`]);
      assert.deepEqual(
        out.uidl,
        uids.map((u, i) => `${i + 1} ${info!.uidValidity}.${u}`),
      );
      const retr = (out.retr as string[]).map((b) => Buffer.from(b, 'base64'));
      assert.deepEqual(retr[0], plain, 'message 1 byte-identical');
      assert.deepEqual(retr[1], dotty, 'message 2 byte-identical, dots unstuffed');
      assert.equal(
        Buffer.from(out.top as string, 'base64').toString(),
        'From: bob@example.org\r\nTo: alice@example.org\r\nSubject: dots\r\n\r\n.a line starting with a dot\r\n',
      );
      assert.match(out.dele as string, /^\+OK/);
      assert.match(out.quit as string, /^\+OK/);
      assert.deepEqual(await remaining(), [String(uids[1])]);
    });
  }

  for (const mode of ['stls', 'implicit'] as const) {
    it(`fetchmail (${mode}) with certificate checking: fetches everything, deletes at QUIT`, async function () {
      requireProgram(this, 'fetchmail');
      const inbox = join(dir, 'delivered');
      await run('mkdir', [inbox]);
      const rc = join(dir, 'fetchmailrc');
      await writeFile(
        rc,
        [
          'set no syslog',
          `poll localhost protocol POP3 port ${mode === 'stls' ? h.port : h.tlsPort} timeout 30 auth password`,
          `  user "${ALICE}" there with password "${ALICE_PW}" is "${userInfo().username}" here`,
          `  ${mode === 'stls' ? '' : 'ssl '}sslproto 'TLS1.2+' sslcertck sslcertfile "${caFile}"`,
          `  mda "/bin/sh -c 'cat > ${inbox}/msg-$$'"`,
          '  norewrite',
          '',
        ].join('\n'),
      );
      await chmod(rc, 0o600);
      const { stdout, stderr } = await run(
        'fetchmail',
        ['-f', rc, '--invisible', '--nodetach', '-v', '--idfile', join(dir, 'ids')],
        {
          env: { ...process.env, HOME: dir, FETCHMAILHOME: dir },
        },
      ).catch((err: { stdout: string; stderr: string; code: number }) => {
        throw new Error(`fetchmail exited ${err.code}\n${err.stdout}\n${err.stderr}`);
      });
      const transcript = stdout + stderr;
      if (mode === 'stls') assert.match(transcript, /POP3> STLS/);
      else assert.doesNotMatch(transcript, /POP3> STLS/);
      assert.match(transcript, /2 messages/);
      const files = await readdir(inbox);
      assert.equal(files.length, 2, transcript);
      const got = (await Promise.all(files.map((f) => readFile(join(inbox, f), 'utf8')))).sort();
      // fetchmail hands messages to the MDA with Unix line ends.
      const want = [MESSAGES.plain, MESSAGES.dotty].map((m) => m.replace(/\r\n/g, '\n')).sort();
      assert.deepEqual(got, want);
      assert.deepEqual(await remaining(), [], 'fetchmail deleted what it fetched');
    });
  }

  async function curl(args: string[]): Promise<string> {
    const { stdout } = await run(
      'curl',
      ['--silent', '--show-error', '--ssl-reqd', '--cacert', caFile, '-u', `${ALICE}:${ALICE_PW}`, ...args],
      { encoding: 'latin1' },
    );
    return stdout;
  }

  it("curl's pop3: STLS, LIST, RETR, UIDL, TOP, DELE", async function () {
    requireProgram(this, 'curl');
    const base = `pop3://localhost:${h.port}`;
    const connectTo = ['--connect-to', `localhost:${h.port}:127.0.0.1:${h.port}`];
    const plain = Buffer.from(MESSAGES.plain);
    const dotty = Buffer.from(MESSAGES.dotty);
    assert.equal(await curl([...connectTo, `${base}/`]), `1 ${plain.length}\r\n2 ${dotty.length}\r\n`);
    assert.deepEqual(Buffer.from(await curl([...connectTo, `${base}/2`]), 'latin1'), dotty);
    assert.deepEqual(Buffer.from(await curl([...connectTo, `${base}/1`]), 'latin1'), plain);
    const uidl = await curl([...connectTo, '-X', 'UIDL', `${base}/`]);
    assert.equal(uidl.trim().split('\r\n').length, 2);
    assert.equal(
      await curl([...connectTo, '-X', 'TOP 1 0', `${base}/`]),
      MESSAGES.plain.slice(0, MESSAGES.plain.indexOf('\r\n\r\n') + 4),
    );
    await curl([...connectTo, '-X', 'DELE', '-I', `${base}/1`]);
    assert.equal((await remaining()).length, 1);
    assert.equal(await curl([...connectTo, `${base}/`]), `1 ${dotty.length}\r\n`);
  });

  it('curl without --ssl-reqd finds no way to log in over plaintext', async function () {
    requireProgram(this, 'curl');
    // curl would log in over plaintext if the server offered it: CAPA offers no USER, no SASL.
    const { stdout, stderr } = await run('curl', [
      '--silent',
      '--show-error',
      '-v',
      '-u',
      `${ALICE}:${ALICE_PW}`,
      `pop3://127.0.0.1:${h.port}/`,
    ]).catch((err: { stdout: string; stderr: string }) => err);
    assert.doesNotMatch(stdout, /^1 /m);
    assert.match(stderr, /< STLS\r?\n/);
    assert.match(stderr, /Login denied/);
  });

  it("poplib and curl over STLS with Postern's own TLS engine (ts)", async function () {
    requireProgram(this, 'python3');
    requireProgram(this, 'curl');
    const ts = await startHarness({ engine: new TsTlsEngine() });
    try {
      await ts.store.mail.append(ALICE, 'INBOX', MESSAGES.dotty);
      const { stdout } = await run('python3', [
        '-c',
        POPLIB_LIST_SCRIPT,
        String(ts.port),
        caFile,
        ALICE,
        ALICE_PW,
      ]);
      const out = JSON.parse(stdout) as { stat: number[]; retr: string };
      assert.deepEqual(out.stat, [1, Buffer.byteLength(MESSAGES.dotty)]);
      assert.deepEqual(Buffer.from(out.retr, 'base64'), Buffer.from(MESSAGES.dotty));
      const connectTo = ['--connect-to', `localhost:${ts.port}:127.0.0.1:${ts.port}`];
      const body = await curl([...connectTo, `pop3://localhost:${ts.port}/1`]);
      assert.deepEqual(Buffer.from(body, 'latin1'), Buffer.from(MESSAGES.dotty));
    } finally {
      await ts.close();
    }
  });
});
