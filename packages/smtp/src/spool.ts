/**
 * A message on its way in: kept in memory while small, spilled to a private temporary file
 * once large, so a 100 MB DATA costs little memory and can be read several times (local
 * delivery, relay queue, capture) after the size limit has been checked.
 */
import { createReadStream } from 'node:fs';
import { mkdtemp, open, rm, type FileHandle } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';

const SPILL_AT = 1024 * 1024;

export class MessageSpool {
  private chunks: Buffer[] = [];
  private memoryBytes = 0;
  private file: { dir: string; path: string; handle: FileHandle } | undefined;
  private head = Buffer.alloc(0);
  size = 0;

  /** The first octets, for header checks without reading the file back. */
  get start(): Buffer {
    return this.head;
  }

  async write(chunk: Buffer): Promise<void> {
    this.size += chunk.length;
    if (this.head.length < 64 * 1024)
      this.head = Buffer.concat([this.head, chunk.subarray(0, 64 * 1024 - this.head.length)]);
    if (!this.file && this.memoryBytes + chunk.length <= SPILL_AT) {
      this.chunks.push(chunk);
      this.memoryBytes += chunk.length;
      return;
    }
    if (!this.file) {
      const dir = await mkdtemp(join(tmpdir(), 'postern-spool-'));
      const path = join(dir, 'message');
      const handle = await open(path, 'w', 0o600);
      this.file = { dir, path, handle };
      for (const c of this.chunks) await handle.write(c);
      this.chunks = [];
      this.memoryBytes = 0;
    }
    await this.file.handle.write(chunk);
  }

  /** The whole message, when it stayed in memory. */
  get buffer(): Buffer | undefined {
    return this.file ? undefined : Buffer.concat(this.chunks);
  }

  /** A fresh stream of the message, with `prefix` (trace headers) in front. */
  open(prefix: Buffer = Buffer.alloc(0)): Readable {
    if (!this.file) return Readable.from([prefix, ...this.chunks].filter((b) => b.length > 0));
    const path = this.file.path;
    return Readable.from(
      (async function* () {
        if (prefix.length) yield prefix;
        yield* createReadStream(path, { highWaterMark: 256 * 1024 });
      })(),
    );
  }

  async toBuffer(prefix: Buffer = Buffer.alloc(0)): Promise<Buffer> {
    const parts: Buffer[] = [];
    for await (const c of this.open(prefix)) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  async dispose(): Promise<void> {
    this.chunks = [];
    const f = this.file;
    this.file = undefined;
    if (f) {
      await f.handle.close().catch(() => undefined);
      await rm(f.dir, { recursive: true, force: true });
    }
  }
}
