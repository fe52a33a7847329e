/**
 * The message indexer: one pass at delivery builds everything readers need (DESIGN.md,
 * "The store"): the MIME tree with byte ranges, the IMAP ENVELOPE of the message and of every
 * embedded message/rfc822, the NNTP overview, the header list and searchable text.
 */
import type { MessageIndex, MimePart } from '../types.js';
import { buildEnvelope, buildOverview } from './envelope.js';
import { parseHeaderBlock } from './headers.js';
import { MimeScanner } from './scanner.js';

export { decodeWords, parseHeaderBlock, contentFields } from './headers.js';
export type { HeaderList } from './headers.js';

function fillEmbedded(part: MimePart, headersOf: Map<MimePart, Array<[string, string]>>): void {
  if (part.message) {
    part.message.envelope = buildEnvelope(headersOf.get(part.message.root) ?? []);
    fillEmbedded(part.message.root, headersOf);
  }
  for (const child of part.parts) fillEmbedded(child, headersOf);
}

export async function indexMessage(
  input: Buffer | Uint8Array | AsyncIterable<Uint8Array>,
): Promise<MessageIndex> {
  const scanner = new MimeScanner();
  if (input instanceof Uint8Array) scanner.write(input);
  else for await (const chunk of input) scanner.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
  const { root, headersOf, size, text, lines } = scanner.end();
  const headers = headersOf.get(root) ?? parseHeaderBlock('');
  fillEmbedded(root, headersOf);
  return {
    size,
    envelope: buildEnvelope(headers),
    root,
    overview: buildOverview(headers, size, lines),
    headers,
    text,
  };
}
