/**
 * Issue 19 item 2: client-chosen patterns that make a backtracking matcher run for minutes
 * and freeze every protocol for every user. The reply must come within a few seconds and the
 * gateway must still serve others. In a child process: before the fix the event loop is blocked
 * for minutes (SIGTERM ignored), and in this process that would stop the test's own timers.
 */
import assert from 'node:assert/strict';
import { RawClient } from './client.js';
import {
  USER,
  baseOptions,
  checkServing,
  childGateway,
  port,
  type ChildGateway,
} from './gateway-under-test.js';
import { readGreeting } from './listeners.js';

/** Generous: a linear matcher answers in milliseconds; the backtracking one took minutes. */
const REPLY_WITHIN_MS = 5000;
/** A group name long enough for `*?` runs to explode (RFC 3977 §4.1 wildmats, §7.6.3). */
const LONG_GROUP = `alt.${'a'.repeat(150)}`;

describe('hostile patterns: IMAP LIST and NNTP wildmats are matched in linear time', function () {
  this.timeout(30_000);
  let gut: ChildGateway | undefined;

  beforeEach(async () => {
    if (gut && (await gut.alive(2000)) === undefined) return;
    await gut?.close();
    gut = await childGateway(baseOptions({ groups: [LONG_GROUP, 'comp.test'] }));
  });
  after(async () => gut?.close());

  it('IMAP: LIST "" "*a*a*a*a*a*a*a*a*a*a*b" against a 200-character name answers promptly', async () => {
    const c = await RawClient.connect({ port: port(gut!, 'imap') });
    try {
      await readGreeting(c, 'imap');
      const login = await c.command(`a LOGIN ${USER.address} "${USER.password}"`, /^a /);
      assert.match(login.at(-1)!, /^a OK/);
      const create = await c.command(`b CREATE ${'a'.repeat(200)}`, /^b /);
      assert.match(create.at(-1)!, /^b OK/);
      // RFC 3501 §6.3.8: '*' matches any run; the name has no 'b', so nothing may match.
      const list = await c
        .command('c LIST "" "*a*a*a*a*a*a*a*a*a*a*b"', /^c /, REPLY_WITHIN_MS)
        .catch((e: Error) => assert.fail(`no LIST reply within ${REPLY_WITHIN_MS} ms: ${e.message}`));
      assert.match(list.at(-1)!, /^c OK/);
      assert.ok(!list.some((l) => l.startsWith('* LIST') && l.includes('a'.repeat(200))), 'no false match');
    } finally {
      c.destroy();
    }
    await checkServing(gut!);
  });

  it('NNTP, anonymous: LIST ACTIVE *?*?*?*?*?*?*?*Z with a long group name answers promptly', async () => {
    const c = await RawClient.connect({ port: port(gut!, 'nntp') });
    try {
      await readGreeting(c, 'nntp');
      const list = await c
        .command('LIST ACTIVE *?*?*?*?*?*?*?*Z', /^(\.|[45]\d\d .*)$/, REPLY_WITHIN_MS)
        .catch((e: Error) => assert.fail(`no LIST ACTIVE reply within ${REPLY_WITHIN_MS} ms: ${e.message}`));
      assert.match(list[0]!, /^215 /);
      assert.ok(!list.some((l) => l.startsWith(LONG_GROUP)), 'no false match');
    } finally {
      c.destroy();
    }
    await checkServing(gut!);
  });
});
