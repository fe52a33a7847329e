/**
 * Rendering one message's FETCH response (RFC 3501 §7.4.2) from the store's metadata and
 * index: byte ranges come from the MIME tree, so no message is parsed again.
 */
import type { MailStore, MessageIndex, MimePart } from '@postern/store';
import { bodyStructure, envelope, formatInternalDate, type Chunk } from './format.js';
import type { FetchItem, Section } from './fetch-items.js';
import { sectionName } from './fetch-items.js';
import { decodeTransfer } from './binary.js';
import type { Numbered } from './selected.js';

export interface FetchTarget {
  store: MailStore;
  user: string;
  mailbox: string;
}

/** RFC 3501 §6.4.5: part 1 of a non-multipart message is its body. */
function topChild(root: MimePart, n: number): MimePart | undefined {
  if (root.type === 'multipart') return root.parts[n - 1];
  return n === 1 ? root : undefined;
}

/** Below the top, a message/rfc822 part's children are those of the message it encloses. */
function child(part: MimePart, n: number): MimePart | undefined {
  if (part.type === 'multipart') return part.parts[n - 1];
  if (part.message) return topChild(part.message.root, n);
  return n === 1 ? part : undefined;
}

export function findPart(root: MimePart, path: number[]): MimePart | undefined {
  let part: MimePart | undefined = root;
  path.forEach((n, i) => {
    if (part) part = i === 0 ? topChild(part, n) : child(part, n);
  });
  return part;
}

type Range = { start: number; end: number };

/** The byte range a section names, or undefined when it names nothing (rendered as ""). */
export function sectionRange(
  index: MessageIndex,
  section: Section,
): { range: Range; filter?: Section } | undefined {
  const part = findPart(index.root, section.part);
  if (!part) return undefined;
  if (section.text === '') {
    if (section.part.length === 0) return { range: { start: 0, end: index.size } };
    return { range: { start: part.bodyStart, end: part.bodyEnd } };
  }
  if (section.text === 'MIME') return { range: { start: part.headerStart, end: part.bodyStart } };
  // HEADER / TEXT: of the message itself, or of the message a message/rfc822 part encloses.
  let msg: MimePart | undefined = part;
  if (section.part.length > 0) msg = part.message?.root;
  if (!msg) return undefined;
  if (section.text === 'TEXT') return { range: { start: msg.bodyStart, end: msg.bodyEnd } };
  const range = { start: msg.headerStart, end: msg.bodyStart };
  return section.text === 'HEADER' ? { range } : { range, filter: section };
}

/** HEADER.FIELDS[.NOT]: the matching fields, then the blank line (RFC 3501 §6.4.5). */
export function filterHeader(header: Buffer, section: Section): Buffer {
  const text = header.toString('latin1');
  const lines = text.split(/\r\n/);
  const fields: string[] = [];
  for (const line of lines) {
    if (line === '') continue;
    if ((line.startsWith(' ') || line.startsWith('\t')) && fields.length > 0)
      fields[fields.length - 1] += `\r\n${line}`;
    else fields.push(line);
  }
  const wanted = new Set(section.fields);
  const keep = fields.filter((f) => {
    const name = f
      .slice(0, Math.max(0, f.indexOf(':')))
      .trim()
      .toUpperCase();
    return section.text === 'HEADER.FIELDS' ? wanted.has(name) : !wanted.has(name);
  });
  return Buffer.from(keep.map((f) => `${f}\r\n`).join('') + '\r\n', 'latin1');
}

async function readRange(t: FetchTarget, uid: number, range: Range): Promise<Buffer> {
  if (range.end <= range.start) return Buffer.alloc(0);
  const stream = await t.store.openMessage(t.user, t.mailbox, uid, range);
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(Buffer.isBuffer(c) ? c : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}

/**
 * RFC 3501 §9: a literal is CHAR8, which has no NUL; only BINARY's literal8 may carry one
 * (RFC 3516 §4.2). A stored message may hold NUL all the same (a raw header, an 8-bit body):
 * each is sent as 0x80, which keeps the literal's length, and so RFC822.SIZE and partial
 * offsets, as they are.
 */
function withoutNul(bytes: Uint8Array): Buffer {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let i = buf.indexOf(0);
  if (i === -1) return buf;
  const copy = Buffer.from(buf);
  for (; i !== -1; i = copy.indexOf(0, i + 1)) copy[i] = 0x80;
  return copy;
}

async function* streamWithoutNul(chunks: AsyncIterable<Uint8Array>): AsyncIterable<Uint8Array> {
  for await (const c of chunks) yield withoutNul(c);
}

function literal(bytes: Buffer): Chunk[] {
  const octets = withoutNul(bytes);
  return [`{${octets.length}}\r\n`, octets];
}

/** Literals above this are streamed from the store as they are written, never held whole. */
export const STREAMED_LITERAL_OVER = 256 * 1024;

/** A literal of the message's octets in `range`: read now when small, streamed when large. */
async function rangeLiteral(t: FetchTarget, uid: number, range: Range): Promise<Chunk[]> {
  const length = Math.max(0, range.end - range.start);
  if (length <= STREAMED_LITERAL_OVER) return literal(await readRange(t, uid, range));
  return [
    `{${length}}\r\n`,
    {
      length,
      open: async () =>
        streamWithoutNul(
          (await t.store.openMessage(t.user, t.mailbox, uid, range)) as AsyncIterable<Uint8Array>,
        ),
    },
  ];
}

export interface RenderOptions {
  /** Include UID (UID FETCH, RFC 3501 §6.4.8). */
  uid: boolean;
  /** Include MODSEQ (CONDSTORE, RFC 7162 §3.2.4). */
  modseq: boolean;
  /** FLAGS must be shown because \Seen was just set (RFC 3501 §6.4.5). */
  flagsChanged: boolean;
}

/** Items answered from the store's index rather than the message metadata alone. */
const NEEDS_INDEX = new Set<FetchItem['kind']>([
  'ENVELOPE',
  'BODY',
  'BODYSTRUCTURE',
  'section',
  'binary',
  'binarySize',
  'RFC822.HEADER',
  'RFC822.TEXT',
]);

/** "* n FETCH (...)" for one message; undefined when the message is gone from the store. */
export async function renderFetch(
  t: FetchTarget,
  msg: Numbered,
  items: FetchItem[],
  opts: RenderOptions,
): Promise<Chunk[] | undefined> {
  const out: Chunk[][] = [];
  const kinds = new Set<FetchItem['kind']>();
  let needIndex = false;
  for (const i of items) {
    kinds.add(i.kind);
    if (NEEDS_INDEX.has(i.kind)) needIndex = true;
  }
  let index: MessageIndex | undefined;
  if (needIndex) {
    index = await t.store.getIndex(t.user, t.mailbox, msg.meta.uid);
    if (!index) return undefined;
  }
  const { meta } = msg;
  if (opts.uid || kinds.has('UID')) out.push([`UID ${meta.uid}`]);
  if (kinds.has('FLAGS') || opts.flagsChanged) out.push([`FLAGS (${meta.flags.join(' ')})`]);
  if (opts.modseq || kinds.has('MODSEQ')) out.push([`MODSEQ (${meta.modseq})`]);
  for (const item of items) {
    switch (item.kind) {
      case 'UID':
      case 'FLAGS':
      case 'MODSEQ':
        break;
      case 'INTERNALDATE':
        out.push([`INTERNALDATE ${formatInternalDate(meta.internalDate)}`]);
        break;
      case 'RFC822.SIZE':
        out.push([`RFC822.SIZE ${meta.size}`]);
        break;
      case 'ENVELOPE':
        out.push([`ENVELOPE ${envelope(index!.envelope)}`]);
        break;
      case 'BODY':
        out.push([`BODY ${bodyStructure(index!.root, false)}`]);
        break;
      case 'BODYSTRUCTURE':
        out.push([`BODYSTRUCTURE ${bodyStructure(index!.root, true)}`]);
        break;
      case 'RFC822':
        out.push([
          'RFC822 ',
          ...(await rangeLiteral(t, meta.uid, { start: 0, end: index?.size ?? meta.size })),
        ]);
        break;
      case 'RFC822.HEADER':
        out.push([
          'RFC822.HEADER ',
          ...literal(
            await readRange(t, meta.uid, { start: index!.root.headerStart, end: index!.root.bodyStart }),
          ),
        ]);
        break;
      case 'RFC822.TEXT':
        out.push([
          'RFC822.TEXT ',
          ...(await rangeLiteral(t, meta.uid, { start: index!.root.bodyStart, end: index!.root.bodyEnd })),
        ]);
        break;
      case 'binary': {
        let bytes = await binaryContent(t, meta.uid, index!, item.part);
        let name = `BINARY[${item.part.join('.')}]`;
        if (item.partial) {
          bytes = bytes.subarray(
            Math.min(item.partial.origin, bytes.length),
            item.partial.origin + item.partial.length,
          );
          name += `<${item.partial.origin}>`;
        }
        // RFC 3516 §4.2: literal8 when the content holds NUL.
        out.push([`${name} ${bytes.includes(0) ? '~' : ''}{${bytes.length}}\r\n`, bytes]);
        break;
      }
      case 'binarySize':
        out.push([
          `BINARY.SIZE[${item.part.join('.')}] ${(await binaryContent(t, meta.uid, index!, item.part)).length}`,
        ]);
        break;
      case 'section': {
        const found = sectionRange(index!, item.section);
        let name = sectionName(item.section);
        if (found && !found.filter && item.partial) {
          // Read only the partial's bytes: clients such as imapflow download a large message in
          // <origin.length> pieces, and reading it whole for each piece is quadratic.
          const start = Math.min(found.range.start + item.partial.origin, found.range.end);
          const end = Math.min(start + item.partial.length, found.range.end);
          out.push([
            `${sectionName(item.section, item.partial.origin)} `,
            ...(await rangeLiteral(t, meta.uid, { start, end })),
          ]);
          break;
        }
        if (found && !found.filter && !item.partial) {
          out.push([`${name} `, ...(await rangeLiteral(t, meta.uid, found.range))]);
          break;
        }
        let bytes = found ? await readRange(t, meta.uid, found.range) : Buffer.alloc(0);
        if (found?.filter) bytes = filterHeader(bytes, found.filter);
        if (item.partial) {
          // RFC 3501 §6.4.5: <origin.length>; the response names only the origin.
          bytes = bytes.subarray(
            Math.min(item.partial.origin, bytes.length),
            item.partial.origin + item.partial.length,
          );
          name = sectionName(item.section, item.partial.origin);
        }
        out.push([`${name} `, ...literal(bytes)]);
        break;
      }
    }
  }
  const chunks: Chunk[] = [`* ${msg.seq} FETCH (`];
  out.forEach((item, i) => {
    if (i > 0) chunks.push(' ');
    chunks.push(...item);
  });
  chunks.push(')\r\n');
  return chunks;
}

/**
 * RFC 3516 §4.1: BINARY[] is the whole message; a leaf part's content is decoded; a multipart
 * or message part is given as it is stored.
 */
async function binaryContent(
  t: FetchTarget,
  uid: number,
  index: MessageIndex,
  path: number[],
): Promise<Buffer> {
  if (path.length === 0) return readRange(t, uid, { start: 0, end: index.size });
  const part = findPart(index.root, path);
  if (!part) return Buffer.alloc(0);
  const raw = await readRange(t, uid, { start: part.bodyStart, end: part.bodyEnd });
  if (part.type === 'multipart' || part.message) return raw;
  return decodeTransfer(part.encoding, raw);
}

/** Does any item set \Seen (RFC 3501 §6.4.5: BODY[...] and RFC822 / RFC822.TEXT)? */
export function setsSeen(items: FetchItem[]): boolean {
  return items.some(
    (i) =>
      ((i.kind === 'section' || i.kind === 'binary') && !i.peek) ||
      i.kind === 'RFC822' ||
      i.kind === 'RFC822.TEXT',
  );
}
