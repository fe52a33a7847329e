/**
 * Small durable-filesystem helpers shared by the fs backend. Every write that is acknowledged
 * goes through one of these: the file is fsynced, and so is the directory that names it,
 * because a rename or link is only durable once its directory entry is on disk.
 */
import { randomBytes } from 'node:crypto';
import { constants as FS, promises as fsp } from 'node:fs';
import { dirname, join } from 'node:path';
import { Readable } from 'node:stream';
import type { MessageSource } from '../types.js';

/** fsync a directory so entries created, renamed or unlinked in it survive a crash. */
export async function fsyncDir(dir: string): Promise<void> {
  const h = await fsp.open(dir, FS.O_RDONLY | FS.O_DIRECTORY);
  try {
    await h.sync();
  } finally {
    await h.close();
  }
}

/**
 * Directories of the store hold mail and password hashes: owner only, whatever the umask
 * (under `umask 000` a plain mkdir would make them 0777).
 */
export const DIR_MODE = 0o700;

/** mkdir -p (each level made 0700), then fsync the parent so the new directory itself is durable. */
export async function ensureDir(dir: string): Promise<void> {
  const made = await fsp.mkdir(dir, { recursive: true, mode: DIR_MODE });
  if (made !== undefined) {
    // mkdir -p may have created several levels: sync each parent from the first one created.
    let d = dir;
    const stop = dirname(made);
    while (d !== stop && d !== dirname(d)) {
      await fsyncDir(dirname(d));
      d = dirname(d);
    }
  }
}

export function uniqueToken(): string {
  return `${process.pid}.${Date.now().toString(36)}.${randomBytes(6).toString('hex')}`;
}

/** Replace `path` atomically: write a temp sibling, fsync it, rename, fsync the directory. */
export async function writeFileAtomic(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = `${path}.tmp-${uniqueToken()}`;
  const h = await fsp.open(tmp, 'wx', 0o600);
  try {
    await h.writeFile(data);
    await h.sync();
  } catch (err) {
    await h.close();
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await h.close();
  try {
    await fsp.rename(tmp, path);
  } catch (err) {
    await fsp.rm(tmp, { force: true });
    throw err;
  }
  await fsyncDir(dirname(path));
}

/** Create `path` only if absent (O_EXCL), fsynced with its directory; false when it exists. */
export async function createFileExclusive(path: string, data: string | Uint8Array): Promise<boolean> {
  let h: fsp.FileHandle;
  try {
    h = await fsp.open(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    await h.writeFile(data);
    await h.sync();
  } finally {
    await h.close();
  }
  await fsyncDir(dirname(path));
  return true;
}

export async function readJson<T>(path: string): Promise<T | undefined> {
  let text: string;
  try {
    text = await fsp.readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return JSON.parse(text) as T;
}

export function isErrno(err: unknown, code: string): boolean {
  return (err as NodeJS.ErrnoException | undefined)?.code === code;
}

/** The message source as a byte stream, without ever holding a streamed source in memory. */
export function sourceToStream(source: MessageSource): Readable {
  if (typeof source === 'string') return Readable.from([Buffer.from(source, 'utf8')]);
  if (source instanceof Uint8Array) return Readable.from([source]);
  return source;
}

/**
 * Stream a message into a new file in `dir` and fsync it. Returns the temp path and size;
 * the caller links it where it belongs and unlinks the temp name.
 */
export async function spoolMessage(
  dir: string,
  source: MessageSource,
): Promise<{ path: string; size: number }> {
  const path = join(dir, `msg-${uniqueToken()}.eml`);
  const h = await fsp.open(path, 'wx', 0o600);
  let size = 0;
  try {
    if (typeof source === 'string' || source instanceof Uint8Array) {
      const buf = typeof source === 'string' ? Buffer.from(source, 'utf8') : source;
      await h.write(buf, 0, buf.byteLength);
      size = buf.byteLength;
    } else {
      // Write chunk by chunk: a 100 MB message never sits in memory.
      for await (const chunk of source as AsyncIterable<Uint8Array | string>) {
        const buf = typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk;
        let off = 0;
        while (off < buf.byteLength) {
          const { bytesWritten } = await h.write(buf, off, buf.byteLength - off);
          off += bytesWritten;
        }
        size += buf.byteLength;
      }
    }
    await h.sync();
  } catch (err) {
    await h.close();
    await fsp.rm(path, { force: true });
    throw err;
  }
  await h.close();
  return { path, size };
}
