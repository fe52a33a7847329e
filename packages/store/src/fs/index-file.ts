/**
 * How a message's index is kept on disk beside its `.eml`. The decoded text (up to 1 MiB, for
 * SEARCH BODY/TEXT) used to sit in the JSON as it was, which made the `.json` about as large
 * as the message; it now follows the JSON compressed:
 *
 *   <the index as JSON, without `text`> LF <the text, UTF-8, raw DEFLATE (RFC 1951)>
 *
 * JSON.stringify never writes a raw LF (RFC 8259 §7: control characters in strings are
 * escaped), so the first LF ends the JSON. A file without one is an index written before
 * this format (the text inline), and is read as it is.
 */
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { deflateRaw, inflateRaw } from 'node:zlib';
import type { MessageIndex } from '../types.js';

const deflate = promisify(deflateRaw);
const inflate = promisify(inflateRaw);

const LF = 0x0a;

export async function encodeIndexFile(index: MessageIndex): Promise<Buffer> {
  const { text, ...rest } = index;
  const head = Buffer.from(JSON.stringify(rest) + '\n', 'utf8');
  if (!text) return head;
  return Buffer.concat([head, await deflate(Buffer.from(text, 'utf8'))]);
}

export async function decodeIndexFile(bytes: Buffer): Promise<MessageIndex> {
  const lf = bytes.indexOf(LF);
  if (lf < 0) return JSON.parse(bytes.toString('utf8')) as MessageIndex;
  const rest = JSON.parse(bytes.subarray(0, lf).toString('utf8')) as Omit<MessageIndex, 'text'>;
  const tail = bytes.subarray(lf + 1);
  const text = tail.length === 0 ? '' : (await inflate(tail)).toString('utf8');
  return { ...rest, text };
}

/** The index at `path`, or undefined when there is no such file. */
export async function readIndexFile(path: string): Promise<MessageIndex | undefined> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  return decodeIndexFile(bytes);
}
