/**
 * Binary content taken in by APPEND (RFC 3516 §4.4, literal8) is stored so that every FETCH
 * can give it back: a literal carries CHAR8, which has no NUL (RFC 3501 §9), and only
 * BINARY[] answers with literal8 (RFC 3516 §4.2). So a part whose body holds NUL and whose
 * transfer encoding leaves bytes as they are (7bit, 8bit, binary) is re-encoded as base64
 * before it is stored: BODY[] then shows the base64, BINARY[] the original octets.
 */
import { indexMessage, type MimePart } from '@postern/store';

/** RFC 2045 §6.8: encoded lines of at most 76 characters. */
const LINE = 76;

const IDENTITY = new Set(['7BIT', '8BIT', 'BINARY']);

interface Edit {
  start: number;
  end: number;
  bytes: Buffer;
}

function base64Lines(body: Buffer): string {
  const b64 = body.toString('base64');
  let out = '';
  for (let i = 0; i < b64.length; i += LINE) out += `${b64.slice(i, i + LINE)}\r\n`;
  return out;
}

/**
 * The part's header block with any Content-Transfer-Encoding field (and its folded lines)
 * replaced by one saying base64, placed before the blank line that ends the block.
 */
function base64Header(header: Buffer): Buffer {
  const lines = header.toString('latin1').split(/(?<=\n)/);
  const kept: string[] = [];
  let dropping = false;
  let blank = '';
  for (const line of lines) {
    if (line === '\r\n' || line === '\n') {
      blank = line;
      break;
    }
    if (dropping && (line.startsWith(' ') || line.startsWith('\t'))) continue;
    dropping = /^content-transfer-encoding\s*:/i.test(line);
    if (!dropping) kept.push(line);
  }
  // A header block that ended without its blank line (headers up to the end) gets one.
  const tail = kept.length > 0 && !kept[kept.length - 1]!.endsWith('\n') ? '\r\n' : '';
  return Buffer.from(
    `${kept.join('')}${tail}Content-Transfer-Encoding: base64\r\n${blank || '\r\n'}`,
    'latin1',
  );
}

function collect(message: Buffer, part: MimePart, edits: Edit[]): void {
  if (part.type === 'multipart') {
    for (const child of part.parts) collect(message, child, edits);
    return;
  }
  if (part.message) {
    collect(message, part.message.root, edits);
    return;
  }
  if (!IDENTITY.has(part.encoding)) return;
  const body = message.subarray(part.bodyStart, part.bodyEnd);
  if (body.indexOf(0) === -1) return;
  edits.push({
    start: part.headerStart,
    end: part.bodyStart,
    bytes: base64Header(message.subarray(part.headerStart, part.bodyStart)),
  });
  edits.push({ start: part.bodyStart, end: part.bodyEnd, bytes: Buffer.from(base64Lines(body), 'latin1') });
}

/** The message as it is stored: unchanged unless a part's body holds NUL (see above). */
export async function storableMessage(message: Buffer): Promise<Buffer> {
  if (message.indexOf(0) === -1) return message;
  const index = await indexMessage(message);
  const edits: Edit[] = [];
  collect(message, index.root, edits);
  if (edits.length === 0) return message;
  edits.sort((a, b) => a.start - b.start);
  const pieces: Buffer[] = [];
  let at = 0;
  for (const e of edits) {
    if (e.start < at) continue; // overlapping ranges would be a scanner bug: keep the first
    pieces.push(message.subarray(at, e.start), e.bytes);
    at = e.end;
  }
  pieces.push(message.subarray(at));
  return Buffer.concat(pieces);
}
