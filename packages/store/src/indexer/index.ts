/**
 * The message indexer: one pass at delivery builds everything readers need (DESIGN.md,
 * "The store"): the MIME tree with byte ranges, the IMAP ENVELOPE of the message and of every
 * embedded message/rfc822, the NNTP overview, the header list and searchable text.
 */
import type { MessageIndex, MimePart } from '../types.js';
import { buildEnvelope, buildOverview } from './envelope.js';
import { fieldsOf, type HeaderFields, type HeaderList } from './headers.js';
import { MimeScanner } from './scanner.js';

export { decodeWords, parseHeaderBlock, contentFields } from './headers.js';
export type { HeaderList } from './headers.js';

type Headers = { headersOf: Map<MimePart, HeaderList>; fieldsOf: Map<MimePart, HeaderFields> };

function fillEmbedded(part: MimePart, scan: Headers): void {
  if (part.message) {
    const root = part.message.root;
    const list = scan.headersOf.get(root) ?? [];
    part.message.envelope = buildEnvelope(list, scan.fieldsOf.get(root) ?? fieldsOf(list));
    fillEmbedded(root, scan);
  }
  for (const child of part.parts) fillEmbedded(child, scan);
}

export async function indexMessage(
  input: Buffer | Uint8Array | AsyncIterable<Uint8Array>,
): Promise<MessageIndex> {
  if (input instanceof Uint8Array) return indexBytes(input);
  const scanner = new MimeScanner();
  for await (const chunk of input) scanner.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  return finish(scanner);
}

/** `indexMessage` of a whole message, without a promise (the memory store's delivery). */
export function indexBytes(input: Uint8Array): MessageIndex {
  const scanner = new MimeScanner();
  // A whole message stays as it is while it is indexed: the scanner reads it in place.
  scanner.write(input, true);
  return finish(scanner);
}

function finish(scanner: MimeScanner): MessageIndex {
  const scan = scanner.end();
  const { root, size, text, lines } = scan;
  const headers = scan.headersOf.get(root) ?? [];
  const fields = scan.fieldsOf.get(root) ?? fieldsOf(headers);
  fillEmbedded(root, scan);
  return {
    size,
    envelope: buildEnvelope(headers, fields),
    root,
    overview: buildOverview(headers, size, lines, fields),
    headers,
    text,
  };
}
