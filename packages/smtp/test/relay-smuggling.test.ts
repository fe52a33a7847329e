/**
 * Issue 19, item 10: the relay client turns bare CR and bare LF into CRLF before dot-stuffing,
 * so a queued message holding `\r.\r` cannot end DATA early at a lenient receiver (SMTP
 * smuggling). Checked on the wire with a recording upstream and end to end with smtp-server.
 */
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { Readable } from 'node:stream';
import { NativeTlsEngine, generateSelfSigned } from '@postern/core';
import { SmtpClient } from '../src/relay/index.js';
import { CrlfNormalizer } from '../src/relay/line-endings.js';
import { startSmtpServerUpstream } from './relay-helpers.js';

/** The reference: every line end, whatever it was, as CRLF. */
const reference = (text: string) => text.replace(/\r\n|\r|\n/g, '\r\n');

function normalize(chunks: string[]): string {
  const n = new CrlfNormalizer();
  const out = chunks.map((c) => n.push(Buffer.from(c, 'latin1')).toString('latin1')).join('');
  return out + n.end().toString('latin1');
}

/** A plaintext upstream that keeps the raw bytes of DATA, terminator included. */
async function recordingUpstream(): Promise<{ server: Server; port: number; data: () => string }> {
  let data = '';
  const server = createServer((socket) => {
    socket.on('error', () => undefined);
    let buf = '';
    let inData = false;
    socket.write('220 recorder ESMTP\r\n');
    socket.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          if (end === -1) return;
          data = buf.slice(0, end + 5);
          buf = buf.slice(end + 5);
          inData = false;
          socket.write('250 2.0.0 kept\r\n');
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl === -1) return;
        const verb = buf.slice(0, 4).toUpperCase();
        buf = buf.slice(nl + 2);
        if (verb === 'EHLO') socket.write('250-recorder\r\n250 8BITMIME\r\n');
        else if (verb === 'DATA') {
          inData = true;
          socket.write('354 go on\r\n');
        } else if (verb === 'QUIT') socket.end('221 2.0.0 bye\r\n');
        else socket.write('250 2.0.0 ok\r\n');
      }
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port, data: () => data };
}

const SMUGGLING = [
  'From: alice@example.org\r\nTo: dave@remote.example\r\nSubject: smuggle\r\n\r\nline1\r\nline2\r',
  '.\rline3\n.\nline4\r.\r\nMAIL FROM:<evil@x>\r\n.line5\n',
];

async function relay(port: number, chunks: string[]) {
  const client = await SmtpClient.connect({
    host: '127.0.0.1',
    port,
    heloName: 'gw.test',
    engine: new NativeTlsEngine(),
    tls: 'off',
    replyTimeoutMs: 5000,
  });
  try {
    const size = chunks.reduce((a, c) => a + c.length, 0);
    return await client.send(
      { from: 'alice@example.org', to: ['dave@remote.example'] },
      async () => Readable.from(chunks.map((c) => Buffer.from(c, 'latin1'))),
      size,
    );
  } finally {
    await client.quit();
  }
}

describe('relay client: line endings before dot-stuffing (issue 19, item 10)', function () {
  it('turns bare CR and bare LF into CRLF, keeping CRLF, across any chunk split', () => {
    assert.equal(normalize(['a\rb\nc\r\nd']), 'a\r\nb\r\nc\r\nd');
    assert.equal(normalize(['a\r', '\nb']), 'a\r\nb', 'a CRLF split between chunks');
    assert.equal(normalize(['a\r', '', 'b\r']), 'a\r\nb\r\n', 'a final CR');
    assert.equal(normalize(['\n\n\r\r']), '\r\n\r\n\r\n\r\n');
    const text = SMUGGLING.join('') + '\r\r\n\n\r\n\rx';
    for (let trial = 0; trial < 300; trial++) {
      const chunks: string[] = [];
      for (let pos = 0; pos < text.length;) {
        const len = 1 + Math.floor(Math.random() * 8);
        chunks.push(text.slice(pos, pos + len));
        pos += len;
      }
      assert.equal(normalize(chunks), reference(text), JSON.stringify(chunks));
    }
  });

  it('never sends a line that is a lone dot before the end of DATA (raw recording upstream)', async () => {
    const up = await recordingUpstream();
    try {
      const result = await relay(up.port, SMUGGLING);
      assert.equal(result.dataReply?.code, 250);
      const wire = up.data();
      assert.doesNotMatch(wire.slice(0, -3), /(^|[^\r])\n|\r(?!\n)/, 'no bare CR or LF on the wire');
      // However a receiver splits lines (CRLF, CR or LF), only the terminator is a lone dot.
      const lines = wire.split(/\r\n|\r|\n/);
      assert.deepEqual(
        lines.map((l, i) => [l, i]).filter(([l]) => l === '.'),
        [['.', lines.length - 2]],
        JSON.stringify(wire),
      );
      assert.match(
        wire,
        /\r\nline2\r\n\.\.\r\nline3\r\n\.\.\r\nline4\r\n\.\.\r\nMAIL FROM:<evil@x>\r\n\.\.line5\r\n\.\r\n$/,
      );
    } finally {
      up.server.close();
    }
  });

  it('delivers the message intact to smtp-server, every line in place', async function () {
    const key = await generateSelfSigned({ hostname: 'localhost' });
    const up = await startSmtpServerUpstream({ key: key.privateKeyPem, cert: key.certificateChainPem });
    try {
      const result = await relay(up.port, SMUGGLING);
      assert.equal(result.dataReply?.code, 250, result.dataReply && JSON.stringify(result.dataReply));
      assert.equal(up.received.length, 1, 'one message, nothing smuggled after it');
      assert.deepEqual(up.received[0]!.from, 'alice@example.org');
      assert.equal(up.received[0]!.message.toString('latin1'), reference(SMUGGLING.join('')));
    } finally {
      await up.close();
    }
  });
});
