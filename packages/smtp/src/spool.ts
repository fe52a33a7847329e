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
const HEAD_BYTES = 64 * 1024;
const EMPTY = Buffer.alloc(0);

export class MessageSpool {
  private chunks: Buffer[] = [];
  private memoryBytes = 0;
  private file: { dir: string; path: string; handle: FileHandle } | undefined;
  /** The first HEAD_BYTES octets, as views of the written chunks; joined only when asked for. */
  private head: Buffer[] = [];
  private headBytes = 0;
  size = 0;

  /** The first octets, for header checks without reading the file back. */
  get start(): Buffer {
    if (this.head.length > 1) this.head = [Buffer.concat(this.head)];
    return this.head[0] ?? Buffer.alloc(0);
  }

  /**
   * Takes `chunk` as it is, without copying: the caller hands it over and must not change it
   * afterwards (LineChannel payload chunks are never reused).
   */
  async write(chunk: Buffer): Promise<void> {
    await this.add(chunk);
  }

  /**
   * `write` without a promise while the message stays in memory (the common case: a DATA
   * sink, LineChannel.readDotBlockInto). A returned promise must settle before the next call.
   */
  add(chunk: Buffer): Promise<void> | undefined {
    if (chunk.length === 0) return undefined;
    this.size += chunk.length;
    if (this.headBytes < HEAD_BYTES) {
      const piece = chunk.subarray(0, HEAD_BYTES - this.headBytes);
      this.head.push(piece);
      this.headBytes += piece.length;
    }
    if (!this.file && this.memoryBytes + chunk.length <= SPILL_AT) {
      this.chunks.push(chunk);
      this.memoryBytes += chunk.length;
      return undefined;
    }
    return this.spill(chunk);
  }

  private async spill(chunk: Buffer): Promise<void> {
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

  /**
   * The message with `prefix` in front as one Buffer when it stayed in memory (at most
   * SPILL_AT octets: no stream needed; always a fresh Buffer that nothing else refers to),
   * else a stream of it from the file.
   */
  source(prefix: Buffer | string = EMPTY): Buffer | Readable {
    const text = typeof prefix === 'string';
    if (this.file) return this.open(text ? Buffer.from(prefix, 'utf8') : prefix);
    // A text prefix (trace headers) is encoded straight into the message's buffer.
    const at = text ? Buffer.byteLength(prefix, 'utf8') : prefix.length;
    const out = Buffer.allocUnsafe(at + this.memoryBytes);
    if (text) out.write(prefix, 0, 'utf8');
    else prefix.copy(out, 0);
    let pos = at;
    for (const c of this.chunks) pos += c.copy(out, pos);
    return out;
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
    if (!this.file) return this.source(prefix) as Buffer;
    const parts: Buffer[] = [];
    for await (const c of this.open(prefix)) parts.push(c as Buffer);
    return Buffer.concat(parts);
  }

  async dispose(): Promise<void> {
    this.chunks = [];
    this.head = [];
    const f = this.file;
    this.file = undefined;
    if (f) {
      await f.handle.close().catch(() => undefined);
      await rm(f.dir, { recursive: true, force: true });
    }
  }
}
