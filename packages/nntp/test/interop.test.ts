/**
 * Interoperability with clients we did not write: Python's nntplib (shipped with Python up to
 * 3.12) over STARTTLS, and `openssl s_client -starttls nntp`.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireProgram } from '@postern/core';
import { articleText, PASSWORD, startRig, USER, type Rig } from './harness.js';

function run(
  program: string,
  args: string[],
  input: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(input);
  });
}

/** The Python side: STARTTLS, AUTHINFO, POST, GROUP, OVER, ARTICLE by number and Message-ID, LIST. */
const NNTPLIB_SCRIPT = String.raw`
import json, ssl, sys, warnings
warnings.simplefilter('ignore')
import nntplib
port, cafile, user, password = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
out = {}
s = nntplib.NNTP('localhost', port, readermode=False, usenetrc=False)
out['welcome'] = s.getwelcome()
out['caps_before'] = sorted(s.getcapabilities().keys())
s.starttls(ssl.create_default_context(cafile=cafile))
out['caps_after'] = sorted(s.getcapabilities().keys())
s.login(user, password, usenetrc=False)
article = [b'From: Py <py@example.test>', b'Newsgroups: local.test', b'Subject: from nntplib',
           b'Message-ID: <py1@example.test>', b'', b'.starts with a dot', b'second line']
out['post'] = s.post(article)
resp, count, first, last, name = s.group('local.test')
out['group'] = [resp, count, first, last, name]
resp, overviews = s.over((first, last))
out['over'] = [[n, o['subject'], o['message-id']] for n, o in overviews]
resp, info = s.article(last)
out['article_by_number'] = [info.number, info.message_id.decode() if isinstance(info.message_id, bytes) else info.message_id, [l.decode() for l in info.lines]]
resp, info = s.article('<seed@example.test>')
out['article_by_id'] = [info.number, [l.decode() for l in info.lines][-1]]
resp, groups = s.list()
out['list'] = sorted([g.group, g.last, g.first, g.flag] for g in groups)
out['quit'] = s.quit()
print(json.dumps(out))
`;

describe('NNTP interoperability', function () {
  let rig: Rig;
  let dir: string;
  let caFile: string;
  beforeEach(async () => {
    rig = await startRig();
    await rig.store.news.post(
      ['local.test'],
      '<seed@example.test>',
      Buffer.from(
        articleText(
          {
            From: 'a@example.test',
            Newsgroups: 'local.test',
            Subject: 'Seed',
            'Message-ID': '<seed@example.test>',
          },
          'seed body\r\n',
        ),
      ),
    );
    dir = mkdtempSync(join(tmpdir(), 'postern-nntp-'));
    caFile = join(dir, 'ca.pem');
    writeFileSync(caFile, rig.ca);
  });
  afterEach(async () => {
    await rig.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('Python nntplib: STARTTLS, AUTHINFO, POST, GROUP, OVER, ARTICLE, LIST', async function () {
    requireProgram(this, 'python3');
    if (spawnSync('python3', ['-W', 'ignore', '-c', 'import nntplib']).status !== 0) {
      this.test!.title += ' (skipped: this python3 has no nntplib, removed in 3.13)';
      this.skip();
    }
    const r = await run('python3', ['-', String(rig.port), caFile, USER, PASSWORD], NNTPLIB_SCRIPT);
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.match(out.welcome as string, /^200 /);
    assert.ok((out.caps_before as string[]).includes('STARTTLS'));
    assert.ok(!(out.caps_before as string[]).includes('AUTHINFO'));
    assert.ok(!(out.caps_after as string[]).includes('STARTTLS'));
    assert.ok((out.caps_after as string[]).includes('AUTHINFO'));
    assert.match(out.post as string, /^240 /);
    assert.deepEqual((out.group as unknown[]).slice(1), [2, 1, 2, 'local.test']);
    assert.deepEqual(out.over, [
      [1, 'Seed', '<seed@example.test>'],
      [2, 'from nntplib', '<py1@example.test>'],
    ]);
    const byNumber = out.article_by_number as [number, string, string[]];
    assert.equal(byNumber[0], 2);
    assert.equal(byNumber[1], '<py1@example.test>');
    assert.deepEqual(byNumber[2].slice(-2), ['.starts with a dot', 'second line']);
    assert.deepEqual(out.article_by_id, [0, 'seed body']);
    assert.deepEqual(out.list, [
      ['local.other', '0', '1', 'y'],
      ['local.readonly', '0', '1', 'n'],
      ['local.test', '2', '1', 'y'],
    ]);
    assert.match(out.quit as string, /^205 /);
  });

  it('openssl s_client -starttls nntp verifies the certificate and talks over TLS', async function () {
    requireProgram(this, 'openssl');
    const r = await run(
      'openssl',
      [
        's_client',
        '-starttls',
        'nntp',
        '-connect',
        `127.0.0.1:${rig.port}`,
        '-servername',
        'localhost',
        '-CAfile',
        caFile,
        '-verify_return_error',
        '-crlf',
        '-ign_eof',
      ],
      'CAPABILITIES\nGROUP local.test\nQUIT\n',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /Verify return code: 0 \(ok\)/);
    // After the handshake: the capability list without STARTTLS, with AUTHINFO.
    const afterTls = r.stdout.slice(r.stdout.indexOf('---\n', r.stdout.indexOf('Verify return code')));
    assert.match(afterTls, /101 Capability list:/);
    assert.match(afterTls, /AUTHINFO USER SASL/);
    assert.doesNotMatch(afterTls, /^STARTTLS\r?$/m);
    assert.match(afterTls, /211 1 1 1 local\.test/);
    assert.match(afterTls, /205 /);
  });
});
