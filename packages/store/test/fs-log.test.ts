/**
 * The index log format and its recovery: frames round-trip, a torn or corrupted tail ends
 * the log wherever it is cut, and the writer cuts it before appending.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { crc32Range, encodeRecord, RecordType, scanFrames, type MailRecord } from '../src/fs/log-codec.js';
import { MailboxLog } from '../src/fs/mailbox-log.js';
import { checkMailboxDir } from '../src/fs/fsck.js';

const records: MailRecord[] = [
  { type: RecordType.Header, header: { v: 1, uidValidity: 42, uidNext: 1, highestModseq: 0 } },
  {
    type: RecordType.New,
    uid: 1,
    modseq: 1,
    size: 100,
    internalDate: 1_700_000_000_000,
    flags: ['\\Seen', '$Label'],
  },
  { type: RecordType.New, uid: 2, modseq: 2, size: 1.5e9, internalDate: 1_700_000_000_001, flags: [] },
  { type: RecordType.Flags, uid: 1, modseq: 3, flags: ['\\Deleted', 'ünïcode'] },
  { type: RecordType.Expunge, modseq: 4, uids: [1] },
  { type: RecordType.Json, value: { n: 1, m: '<a@b>' } },
];

function decodeAll(buf: Buffer): { out: MailRecord[]; end: number } {
  const out: MailRecord[] = [];
  const end = scanFrames(buf, 0, (r) => out.push(r));
  return { out, end };
}

describe('fs store: index log format', () => {
  it('round-trips every record type', () => {
    const buf = Buffer.concat(records.map(encodeRecord));
    const { out, end } = decodeAll(buf);
    assert.equal(end, buf.length);
    assert.deepEqual(
      out.map((r) => JSON.parse(JSON.stringify(r))),
      records.map((r) => JSON.parse(JSON.stringify(r))),
    );
  });

  it('checks frames with the same CRC-32 as zlib', () => {
    const buf = Buffer.from('The quick brown fox jumps over the lazy dog, twice: \u00e9\u00e8');
    for (let start = 0; start < 8; start++) {
      assert.equal(
        crc32Range(buf, start, buf.length - start),
        crc32(buf.subarray(start, buf.length - start)),
      );
    }
    assert.equal(crc32Range(Buffer.from('123456789'), 0, 9), 0xcbf43926);
  });

  it('a log cut at any byte keeps exactly the whole frames before the cut', () => {
    const frames = records.map(encodeRecord);
    const buf = Buffer.concat(frames);
    const ends: number[] = [];
    frames.reduce((acc, f) => (ends.push(acc + f.length), acc + f.length), 0);
    for (let cut = 0; cut <= buf.length; cut++) {
      const { out, end } = decodeAll(buf.subarray(0, cut));
      const whole = ends.filter((e) => e <= cut);
      assert.equal(out.length, whole.length, `cut at ${cut}`);
      assert.equal(end, whole.at(-1) ?? 0);
    }
  });

  it('a flipped bit in the last frame ends the log before that frame', () => {
    const frames = records.map(encodeRecord);
    const buf = Buffer.concat(frames);
    const lastStart = buf.length - frames.at(-1)!.length;
    for (let i = lastStart + 8; i < buf.length; i++) {
      const bad = Buffer.from(buf);
      bad[i] ^= 0x10;
      const { out, end } = decodeAll(bad);
      assert.equal(out.length, records.length - 1, `byte ${i}`);
      assert.equal(end, lastStart);
    }
  });
});

describe('fs store: mailbox log recovery', () => {
  let dir: string;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'postern-log-'));
    await MailboxLog.create(dir, 7);
  });
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function appendNew(log: MailboxLog, uid: number): Promise<void> {
    await writeFile(log.messagePath(uid), 'x');
    await writeFile(log.indexPath(uid), '{}');
    const lock = await log.lockForWrite();
    try {
      await log.append([
        { type: RecordType.New, uid, modseq: log.highestModseq + 1, size: 1, internalDate: 0, flags: [] },
      ]);
    } finally {
      await lock.release();
    }
  }

  it('replays what was appended, in a new reader too', async () => {
    const log = new MailboxLog(dir);
    await log.refresh();
    await appendNew(log, 1);
    await appendNew(log, 2);
    const other = new MailboxLog(dir);
    await other.refresh();
    assert.deepEqual([...other.messages.keys()], [1, 2]);
    assert.equal(other.uidNext, 3);
    assert.equal(other.header.uidValidity, 7);
  });

  it('a reader ignores a torn tail; the next writer truncates it and appends after the last whole frame', async () => {
    const log = new MailboxLog(dir);
    await log.refresh();
    await appendNew(log, 1);
    const whole = (await stat(log.logPath)).size;
    const torn = encodeRecord({
      type: RecordType.New,
      uid: 2,
      modseq: 2,
      size: 1,
      internalDate: 0,
      flags: [],
    }).subarray(0, 20);
    await writeFile(log.logPath, Buffer.concat([await readFile(log.logPath), torn]));

    const reader = new MailboxLog(dir);
    await reader.refresh();
    assert.deepEqual([...reader.messages.keys()], [1]);
    assert.equal((await stat(log.logPath)).size, whole + 20, 'readers never truncate');

    const writer = new MailboxLog(dir);
    await appendNew(writer, 2);
    const report = await checkMailboxDir(dir);
    assert.deepEqual(report.problems, []);
    assert.equal(report.tornBytes, 0);
    assert.equal(report.messages, 2);
    await reader.refresh();
    assert.deepEqual([...reader.messages.keys()], [1, 2]);
  });

  it('compaction keeps live messages, uidNext and modseq, and readers follow the new file', async () => {
    const log = new MailboxLog(dir);
    await log.refresh();
    for (let uid = 1; uid <= 5; uid++) await appendNew(log, uid);
    const reader = new MailboxLog(dir);
    await reader.refresh();
    const lock = await log.lockForWrite();
    try {
      await log.append([{ type: RecordType.Expunge, modseq: log.highestModseq + 1, uids: [2, 5] }]);
      await log.compact();
    } finally {
      await lock.release();
    }
    await reader.refresh();
    assert.deepEqual([...reader.messages.keys()], [1, 3, 4]);
    assert.equal(reader.uidNext, 6, 'expunged UIDs are never given again');
    assert.equal(reader.highestModseq, 6);
    assert.equal(reader.deadFrames, 0);
    const report = await checkMailboxDir(dir);
    assert.deepEqual(report.problems, []);
    assert.deepEqual(report.orphans, [], 'files of expunged messages are gone');
  });

  it('the consistency check reports a message file that does not match its entry', async () => {
    const log = new MailboxLog(dir);
    await log.refresh();
    await appendNew(log, 1);
    await writeFile(log.messagePath(1), 'longer than logged');
    const report = await checkMailboxDir(dir);
    assert.equal(report.ok, false);
    assert.match(report.problems.join('\n'), /UID 1: file is 18 bytes, log says 1/);
  });
});
