/**
 * Taking a message in: stream it into a spool file (fsynced), then index it once by reading
 * the spool back (page cache, so cheap) and write the index next to it (fsynced; its decoded
 * text compressed, see index-file.ts). The two
 * files are then hard-linked into each mailbox or group that gets the message, so a message
 * to many recipients is written and indexed once; the spool names are unlinked at the end.
 */
import { createReadStream, promises as fsp } from 'node:fs';
import type { MessageIndex, MessageSource } from '../types.js';
import { spoolMessage } from './fsutil.js';
import { encodeIndexFile } from './index-file.js';

export type Indexer = (input: Buffer | AsyncIterable<Uint8Array>) => Promise<MessageIndex>;

export interface Ingested {
  emlPath: string;
  idxPath: string;
  size: number;
  index: MessageIndex;
  /** Remove the spool names (the linked copies stay). */
  discard(): Promise<void>;
}

export async function ingest(tmpDir: string, source: MessageSource, indexer: Indexer): Promise<Ingested> {
  const { path: emlPath, size } = await spoolMessage(tmpDir, source);
  const idxPath = emlPath.replace(/\.eml$/, '.json');
  const discard = async (): Promise<void> => {
    await fsp.rm(emlPath, { force: true });
    await fsp.rm(idxPath, { force: true });
  };
  try {
    // Small messages are indexed from memory; big ones stream from the spool file.
    const index =
      size <= 256 * 1024
        ? await indexer(await fsp.readFile(emlPath))
        : await indexer(createReadStream(emlPath, { highWaterMark: 256 * 1024 }));
    const h = await fsp.open(idxPath, 'wx', 0o600);
    try {
      await h.writeFile(await encodeIndexFile(index));
      await h.sync();
    } finally {
      await h.close();
    }
    return { emlPath, idxPath, size, index, discard };
  } catch (err) {
    await discard();
    throw err;
  }
}

/** Hard-link a file to `to`; an orphan left there by a crashed writer (not in any log) is replaced. */
export async function linkReplacing(from: string, to: string): Promise<void> {
  try {
    await fsp.link(from, to);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    await fsp.rm(to, { force: true });
    await fsp.link(from, to);
  }
}
