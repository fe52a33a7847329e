/** Reading stored files back as streams, whole or a byte range, without loading them. */
import { promises as fsp } from 'node:fs';
import { Readable } from 'node:stream';
import { StoreError } from '../types.js';
import { isErrno } from './fsutil.js';

/**
 * Open now (so a file expunged a moment later still reads: the open descriptor keeps it) and
 * stream lazily. `range` is [start, end) and is clamped to the file.
 */
export async function openFileStream(
  path: string,
  range?: { start: number; end: number },
): Promise<Readable> {
  let h: fsp.FileHandle;
  try {
    h = await fsp.open(path, 'r');
  } catch (err) {
    if (isErrno(err, 'ENOENT')) throw new StoreError('NOT_FOUND', 'message file is gone');
    throw err;
  }
  if (range) {
    const start = Math.max(0, range.start);
    if (range.end <= start) {
      await h.close();
      return Readable.from([]);
    }
    return h.createReadStream({ start, end: range.end - 1, highWaterMark: 64 * 1024 });
  }
  return h.createReadStream({ highWaterMark: 64 * 1024 });
}
