/**
 * Issue 19 item 3: before login, IMAP literals are capped at a few KiB (RFC 7888 LITERAL-
 * semantics): ten `a LOGIN {45000000+}` must be refused early, not buffered, and a synchronizing
 * `{45000000}` gets no `+` go-ahead. The gateway runs in this process: the input cannot crash it.
 */
import assert from 'node:assert/strict';
import { RawClient, inBatches } from './client.js';
import {
  baseOptions,
  checkServing,
  inProcessGateway,
  port,
  type GatewayUnderTest,
} from './gateway-under-test.js';
import { readGreeting } from './listeners.js';

const LITERAL = 45_000_000;
const CHUNK = Buffer.alloc(64 * 1024, 0x61);
/**
 * The refusal must come long before the 45 MB: well within the first MiB the server has read
 * the command line; what we count is what we wrote, socket buffers included, so allow some MiB.
 */
const REFUSED_BEFORE_BYTES = 8 * 1024 * 1024;

interface StreamOutcome {
  /** Bytes of the literal written before the server answered or closed. */
  written: number;
  reply: string | undefined;
  closed: boolean;
}

/** Send `a LOGIN {45000000+}` and stream the literal until the server answers or closes. */
async function streamLiteral(gut: GatewayUnderTest): Promise<StreamOutcome> {
  const c = await RawClient.connect({ port: port(gut, 'imap') });
  try {
    await readGreeting(c, 'imap');
    c.write(`a LOGIN {${LITERAL}+}\r\n`);
    let written = 0;
    while (written < REFUSED_BEFORE_BYTES && !c.closed && c.pending === 0) {
      if (!c.write(CHUNK)) {
        // Back-pressure: wait for the socket to drain, the peer to answer, or the peer to go.
        await Promise.race([
          new Promise((r) => c.socket.once('drain', r)),
          c.closedAt,
          new Promise((r) => setTimeout(r, 200)),
        ]);
      } else await new Promise((r) => setImmediate(r));
      written += CHUNK.length;
    }
    const reply = c.pending > 0 ? await c.readLine(1000).catch(() => undefined) : undefined;
    return { written, reply, closed: c.closed };
  } finally {
    c.destroy();
  }
}

describe('hostile pre-login literals: IMAP refuses big literals before authentication', function () {
  this.timeout(60_000);
  let gut: GatewayUnderTest;
  before(async () => {
    gut = await inProcessGateway(baseOptions());
  });
  after(() => gut.close());

  it('ten LOGIN {45000000+} connections are refused before a fraction of the literal is sent', async () => {
    const outcomes = await inBatches(10, 10, () => streamLiteral(gut));
    for (const [i, o] of outcomes.entries()) {
      assert.ok(
        o.reply !== undefined || o.closed,
        `connection ${i}: ${o.written} bytes of the literal accepted without a refusal`,
      );
      if (o.reply !== undefined) assert.match(o.reply, /^(a (BAD|NO)|\* BYE)/, `connection ${i}`);
    }
    await checkServing(gut);
  });

  it('a synchronizing LOGIN {45000000} gets no "+" go-ahead', async () => {
    const c = await RawClient.connect({ port: port(gut, 'imap') });
    try {
      await readGreeting(c, 'imap');
      c.write(`a LOGIN {${LITERAL}}\r\n`);
      const line = await c.readLine(5000).catch(() => 'nothing within 5 s');
      // RFC 3501 §7.5: "+" would invite the client to send 45 MB before login.
      if (line !== undefined) assert.match(line, /^(a (BAD|NO)|\* BYE)/, `refused, not continued: ${line}`);
    } finally {
      c.destroy();
    }
    await checkServing(gut);
  });
});
