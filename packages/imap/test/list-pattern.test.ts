/**
 * LIST patterns (RFC 3501 §6.3.8) are matched without client-controlled RegExps: a linear-time
 * matcher checked against a naive reference, and a hostile pattern over a real socket that
 * must neither stall the server nor keep another client waiting.
 */
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compileListPattern } from '../src/list-pattern.js';
import { RawClient } from './client.js';
import { ALICE, ALICE_PW, BOB, BOB_PW, startHarness, type Harness } from './harness.js';

/** The reference: RFC 3501 §6.3.8 read literally, by exhaustive backtracking. */
function naive(pattern: string[], name: string[]): boolean {
  if (pattern.length === 0) return name.length === 0;
  const [p, ...rest] = pattern;
  if (p === '*' || p === '%') {
    for (let i = 0; i <= name.length; i++) {
      if (p === '%' && name.slice(0, i).includes('/')) break;
      if (naive(rest, name.slice(i))) return true;
    }
    return false;
  }
  return name.length > 0 && name[0] === p && naive(rest, name.slice(1));
}

const last = (lines: string[]) => lines[lines.length - 1];

describe('imap LIST patterns', () => {
  it('agrees with the naive reference on small patterns and names', () => {
    const pattern = fc.array(fc.constantFrom('a', 'b', '/', '*', '%', 'é'), { maxLength: 8 });
    const name = fc.array(fc.constantFrom('a', 'b', '/', 'é'), { maxLength: 10 });
    fc.assert(
      fc.property(pattern, name, (p, n) => {
        assert.equal(compileListPattern(p.join(''), '/', 512)(n.join('')), naive(p, n));
      }),
      { numRuns: 5000 },
    );
  });

  it('matches * across the delimiter and % within one level', () => {
    const star = compileListPattern('a*', '/', 512);
    const pct = compileListPattern('a%', '/', 512);
    assert.equal(star('ab/c'), true);
    assert.equal(pct('ab/c'), false);
    assert.equal(pct('abc'), true);
    assert.equal(compileListPattern('a%/%', '/', 512)('ab/c'), true);
    assert.equal(compileListPattern('*.+?()[]\\', '/', 512)('x.+?()[]\\'), true);
  });

  it('answers the pathological patterns of issue 19 at once', () => {
    const name = 'a'.repeat(200);
    assert.equal(compileListPattern('*a'.repeat(10) + '*b', '/', 512)(name), false);
    assert.equal(compileListPattern('%a'.repeat(10) + '%b', '/', 512)(name), false);
    assert.equal(compileListPattern('*a'.repeat(200) + '*', '/', 512)(name), true);
    assert.equal(compileListPattern('a'.repeat(513) + '*', '/', 512)('a'.repeat(512)), false);
  });

  describe('over a socket', () => {
    let h: Harness;
    afterEach(async () => {
      await h.close();
    });

    it('answers a backtracking-hostile LIST promptly while another client is served', async function () {
      // With a backtracking RegExp this pattern takes half a minute on a 250-character name,
      // the exact one of the issue hours: the bound below only tells "answered" from "stalled".
      this.timeout(180_000);
      h = await startHarness({ allowInsecureAuth: true });
      const a = await RawClient.connect(h.port);
      await a.readLine();
      assert.match(last(await a.command('l', `LOGIN ${ALICE} "${ALICE_PW}"`)), /^l OK/);
      const long = 'a'.repeat(250);
      assert.match(last(await a.command('c', `CREATE ${long}`)), /^c OK/);
      const started = Date.now();
      a.send(`h LIST "" "${'*a'.repeat(4)}*b"\r\n`);
      const b = await RawClient.connect(h.port);
      assert.match(await b.readLine(), /^\* OK/);
      assert.match(last(await b.command('l', `LOGIN ${BOB} "${BOB_PW}"`)), /^l OK/);
      assert.deepEqual(await a.until('h'), ['h OK LIST completed']);
      assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
      // The exact pattern of the issue, and one that matches.
      assert.deepEqual(await a.command('x', `LIST "" "${'*a'.repeat(10)}*b"`), ['x OK LIST completed']);
      assert.deepEqual(await a.command('y', `LIST "" "${'%a'.repeat(10)}%"`), [
        `* LIST (\\HasNoChildren) "/" ${long}`,
        'y OK LIST completed',
      ]);
      // LSUB and LIST-EXTENDED (selection options, several patterns) go the same way.
      const hostile = `${'*a'.repeat(10)}*b`;
      assert.deepEqual(await a.command('z', `LSUB "" "${hostile}"`), ['z OK LSUB completed']);
      const ext = await a.command('w', `LIST (SUBSCRIBED) "" ("${hostile}" "${'%a'.repeat(10)}%b")`);
      assert.deepEqual(ext, ['w OK LIST completed']);
      a.close();
      b.close();
    });
  });
});
