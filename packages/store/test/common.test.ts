import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Readable } from 'node:stream';
import {
  ChangeFeed,
  applyFlagMode,
  canonicalMailbox,
  decodeNameFromPath,
  encodeNameForPath,
  formatUidSet,
  handOver,
  hashPassword,
  normalizeDomain,
  normalizeFlags,
  normalizeUids,
  readSource,
  toUidRanges,
  validateGroup,
  validateMailbox,
  validateMessageId,
  validateUser,
  verifyPassword,
} from '../src/common/index.js';
import { StoreError } from '../src/types.js';

const invalid = (e: unknown) => e instanceof StoreError && e.code === 'INVALID_NAME';

describe('common helpers', () => {
  describe('encodeNameForPath', () => {
    it('turns any name into one safe path segment', () => {
      fc.assert(
        fc.property(fc.string({ unit: 'binary', maxLength: 300 }), (name) => {
          const seg = encodeNameForPath(name);
          assert.match(seg, /^[a-z0-9_@+\-.%A-F~]+$/);
          assert.ok(seg !== '.' && seg !== '..' && !seg.startsWith('.'));
          assert.ok(seg.length <= 180);
        }),
        { numRuns: 500 },
      );
      assert.equal(encodeNameForPath('..'), '%2E.');
      assert.equal(encodeNameForPath('a/b'), 'a%2Fb');
      assert.equal(encodeNameForPath('a\0'), 'a%00');
      assert.equal(encodeNameForPath(''), '~');
    });

    it('is one-to-one (case and Unicode included) and reversible for short names', () => {
      fc.assert(
        fc.property(
          fc.string({ unit: 'grapheme', maxLength: 40 }),
          fc.string({ unit: 'grapheme', maxLength: 40 }),
          (a, b) => {
            const seg = encodeNameForPath(a);
            // Over-long names end in '~' + hash and are not meant to be decoded.
            if (!seg.includes('~') || a === '') assert.equal(decodeNameFromPath(seg), a);
            if (a !== b) assert.notEqual(encodeNameForPath(a), encodeNameForPath(b));
          },
        ),
        { numRuns: 300 },
      );
      assert.notEqual(encodeNameForPath('Ann'), encodeNameForPath('ann'));
    });

    it('keeps over-long names distinct through a hash suffix', () => {
      const a = 'x'.repeat(500) + 'a';
      const b = 'x'.repeat(500) + 'b';
      assert.notEqual(encodeNameForPath(a), encodeNameForPath(b));
    });
  });

  describe('name rules', () => {
    it('mailboxes: controls, empty, . and .. levels refused; INBOX case-insensitive', () => {
      for (const bad of [
        '',
        'a\0',
        'a\nb',
        '\u0085',
        '/a',
        'a/',
        'a//b',
        '..',
        'a/../b',
        '.',
        'x/.',
        '\ud800',
      ])
        assert.throws(() => validateMailbox(bad), invalid, JSON.stringify(bad));
      for (const good of ['Work', 'Work/2026', 'a.b', '...x', 'Entwürfe', '&ZeVnLIqe-'])
        validateMailbox(good);
      assert.equal(canonicalMailbox('inBox'), 'INBOX');
      assert.equal(canonicalMailbox('Inbox/x'), 'Inbox/x');
    });

    it('users, domains, groups and Message-IDs', () => {
      validateUser('a.b+c@example.com');
      for (const bad of ['a', 'a@', '@b', 'a b@c', 'a\0@b', 'x'.repeat(251) + '@b.c'])
        assert.throws(() => validateUser(bad), invalid, bad);
      assert.equal(normalizeDomain(' Example.COM. '), 'example.com');
      for (const bad of ['', 'a/b', 'a\0b', 'a@b']) assert.throws(() => normalizeDomain(bad), invalid, bad);
      validateGroup('comp.lang.typescript');
      for (const bad of ['', '.a', 'a.', 'a..b', '../x', 'a b'])
        assert.throws(() => validateGroup(bad), invalid, bad);
      validateMessageId('<a.b@c>');
      for (const bad of ['a@b', '<a b@c>', '<a\0@b>', '<>', `<${'x'.repeat(260)}>`])
        assert.throws(() => validateMessageId(bad), invalid, bad);
    });
  });

  describe('passwords', () => {
    it('scrypt hashes with a fresh salt, verified in constant time', async () => {
      const h1 = await hashPassword('pw');
      const h2 = await hashPassword('pw');
      assert.match(h1, /^scrypt\$/);
      assert.notEqual(h1, h2);
      assert.ok(await verifyPassword('pw', h1));
      assert.ok(!(await verifyPassword('pW', h1)));
      assert.ok(!(await verifyPassword('pw', undefined)));
      assert.ok(!(await verifyPassword('pw', 'garbage')));
      assert.ok(await verifyPassword('caf\u00e9', await hashPassword('cafe\u0301')), 'RFC 8265: NFC');
    });
  });

  describe('flags and UIDs', () => {
    it('flags are unique case-insensitively and never \\Recent', () => {
      assert.deepEqual(normalizeFlags(['\\Seen', '\\seen', '\\Recent', '$X']), ['\\Seen', '$X']);
      assert.deepEqual(applyFlagMode(['\\Seen'], 'add', ['\\SEEN', '$Y']), ['\\Seen', '$Y']);
      assert.deepEqual(applyFlagMode(['\\Seen', '$Y'], 'remove', ['$y']), ['\\Seen']);
      assert.deepEqual(applyFlagMode(['\\Seen'], 'set', []), []);
    });

    it('UID sets', () => {
      assert.deepEqual(normalizeUids([3, 1, 3, 0, -1, 1.5, 2]), [1, 2, 3]);
      assert.deepEqual(toUidRanges([7, 1, 2, 3]), [
        { start: 1, end: 3 },
        { start: 7, end: 7 },
      ]);
      assert.equal(formatUidSet([5, 1, 2, 3, 9, 10]), '1:3,5,9:10');
      assert.equal(formatUidSet([]), '');
    });
  });

  describe('message sources', () => {
    it('copies given bytes unless handed over, and keeps handed-over bytes once', async () => {
      const given = Buffer.from('Subject: x\r\n\r\nbody\r\n');
      const copy = await readSource(given);
      assert.notEqual(copy, given);
      assert.deepEqual(copy, given);
      const mine = handOver(Buffer.from(given));
      assert.equal(await readSource(mine), mine);
      assert.notEqual(await readSource(mine), mine, 'handed over for one call only');
      const view = handOver(new Uint8Array(given.buffer, given.byteOffset + 2, 5));
      const kept = await readSource(view);
      assert.ok(Buffer.isBuffer(kept) && kept.buffer === given.buffer && kept.byteOffset === view.byteOffset);
      assert.deepEqual(await readSource('caf\u00e9'), Buffer.from('caf\u00e9', 'utf8'));
      assert.deepEqual(await readSource(Readable.from([given.subarray(0, 3), given.subarray(3)])), given);
    });
  });

  describe('ChangeFeed', () => {
    it('delivers in order, survives a throwing listener, and unsubscribes', () => {
      const errors: unknown[] = [];
      const feed = new ChangeFeed<number>((e) => errors.push(e));
      const got: number[] = [];
      const stopBad = feed.subscribe(() => {
        throw new Error('bad');
      });
      const stop = feed.subscribe((n) => got.push(n));
      feed.publish(1);
      feed.publish(2);
      stop();
      feed.publish(3);
      stopBad();
      assert.deepEqual(got, [1, 2]);
      assert.equal(errors.length, 3);
      assert.equal(feed.size, 0);
    });
  });
});
