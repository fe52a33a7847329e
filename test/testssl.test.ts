/**
 * testssl.sh against a running gateway: the SMTP STARTTLS listener and the implicit-TLS IMAP
 * listener, both on our own TLS engine. No finding may be VULNERABLE or "NOT ok"; the protocol
 * and downgrade findings that issue 12 is about are pinned one by one.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireProgram } from '@postern/core';
import { startGateway, type Gateway } from '@postern/server';
import { tempDir } from './helpers.js';

interface Finding {
  id: string;
  severity: string;
  finding: string;
}

/** Run testssl with JSON output; resolves with the findings (testssl's exit code counts findings, not failures). */
function testssl(args: string[], dir: string, name: string): Promise<Finding[]> {
  const jsonFile = join(dir, `${name}.json`);
  return new Promise((resolve, reject) => {
    // No stdin, batch warnings: testssl never waits for a human.
    const child = spawn(
      'testssl',
      ['--jsonfile', jsonFile, '--warnings', 'batch', '--quiet', '--color', '0', '--fast', ...args],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', () => {
      try {
        resolve(JSON.parse(readFileSync(jsonFile, 'utf8')) as Finding[]);
      } catch (err) {
        reject(new Error(`testssl wrote no JSON (${(err as Error).message}):\n${out.slice(-2000)}`));
      }
    });
  });
}

function assertClean(findings: Finding[]): void {
  // Case matters: testssl writes "not vulnerable" for the good outcome.
  const bad = findings.filter((f) => /VULNERABLE|NOT ok/.test(f.finding));
  assert.deepEqual(
    bad,
    [],
    `testssl findings:\n${bad.map((f) => `${f.severity} ${f.id}: ${f.finding}`).join('\n')}`,
  );
  const byId = new Map(findings.map((f) => [f.id, f]));
  const expect = (id: string, pattern: RegExp) =>
    assert.match(byId.get(id)?.finding ?? '(missing)', pattern, id);
  for (const old of ['SSLv2', 'SSLv3', 'TLS1', 'TLS1_1']) expect(old, /^not offered/);
  // TLS1_2 is not pinned: testssl's raw-socket hellos omit extended_master_secret, which we
  // require (RFC 7627 §5.3), so some of its probes see no TLS 1.2 (tls12-interop pins it instead).
  expect('TLS1_3', /^offered/);
  expect('fallback_SCSV', /^supported|^no protocol below TLS 1\.2 offered/);
  expect('secure_client_renego', /^not vulnerable/);
  expect('cipherlist_AVERAGE', /^not offered/); // CBC
  expect('cipherlist_3DES_IDEA', /^not offered/);
  expect('cipherlist_STRONG', /^offered/);
}

describe('testssl.sh against the gateway (slow)', function () {
  this.timeout(15 * 60_000);
  let gw: Gateway;
  let dir: string;
  let caFile: string;
  before(async function () {
    requireProgram(this, 'testssl');
    gw = await startGateway({ domains: ['example.test'], relay: 'capture', ports: { smtp: 0, imaps: 0 } });
    dir = tempDir('postern-testssl-');
    caFile = join(dir, 'gateway-ca.pem');
    // The gateway's self-signed certificate is the trust anchor, so the chain check is about us.
    writeFileSync(caFile, gw.certificatePem);
  });
  after(async () => {
    await gw?.close();
  });

  it('SMTP with STARTTLS: no finding is VULNERABLE or NOT ok', async function () {
    requireProgram(this, 'testssl');
    assertClean(
      await testssl(['--add-ca', caFile, '--starttls', 'smtp', `127.0.0.1:${gw.ports.smtp}`], dir, 'smtp'),
    );
  });

  it('IMAP with implicit TLS: no finding is VULNERABLE or NOT ok', async function () {
    requireProgram(this, 'testssl');
    assertClean(await testssl(['--add-ca', caFile, `127.0.0.1:${gw.ports.imaps}`], dir, 'imaps'));
  });
});
