/**
 * The IMAP ENVELOPE (RFC 3501 §7.4.2) and the NNTP overview (RFC 3977 §8.3) from a header
 * list. ENVELOPE strings are the raw header text (encoded words untouched), as IMAP clients
 * decode them themselves.
 */
import type { Envelope, EnvelopeAddress, Overview } from '../types.js';
import { parseAddressList, type ParsedAddress as Parsed } from './addresses.js';
import { fieldsOf, type HeaderFields, type HeaderList } from './headers.js';

const headerValue = (headers: HeaderFields, name: string): string | null => headers.get(name) ?? null;

/**
 * Obsolete source routes (RFC 5322 §4.4 obs-route, `<@a,@b:user@host>`), which the address
 * parser drops: the route of each routed address, by address, and the value without them.
 */
function takeRoutes(value: string): { value: string; routes: Map<string, string> } {
  const routes = new Map<string, string>();
  if (!value.includes('<@')) return { value, routes };
  const stripped = value.replace(
    /<\s*(@[^<>:"]*?)\s*:\s*([^<>\s]+)\s*>/g,
    (_, route: string, addr: string) => {
      if (!routes.has(addr)) routes.set(addr, route.replace(/\s+/g, ''));
      return `<${addr}>`;
    },
  );
  return { value: stripped, routes };
}

function toEnvelopeAddresses(
  list: Parsed[],
  routes: Map<string, string>,
  inGroup = false,
): EnvelopeAddress[] {
  const out: EnvelopeAddress[] = [];
  for (const a of list) {
    if (a.group) {
      // RFC 3501 §7.4.2: a group is a start marker with the group name and an end marker.
      out.push({ name: null, adl: null, mailbox: a.name || '', host: null });
      out.push(...toEnvelopeAddresses(a.group, routes, true));
      out.push({ name: null, adl: null, mailbox: null, host: null });
      continue;
    }
    const address = a.address ?? '';
    // `group: (foo) ;` is an empty group with a comment (RFC 5322 §3.4 group-list may be
    // CFWS): the parser's address-less entry for the comment is no member.
    if (inGroup && address === '') continue;
    const at = address.lastIndexOf('@');
    out.push({
      name: a.name ? a.name : null,
      adl: routes.get(address) ?? null,
      mailbox: at === -1 ? address || null : address.slice(0, at),
      host: at === -1 ? null : address.slice(at + 1),
    });
  }
  return out;
}

function addresses(headers: HeaderFields, name: string): EnvelopeAddress[] | null {
  const value = headerValue(headers, name);
  if (value === null || value.trim() === '') return null;
  const { value: plain, routes } = takeRoutes(value);
  let parsed: Parsed[];
  try {
    parsed = parseAddressList(plain);
  } catch {
    return null;
  }
  const list = toEnvelopeAddresses(parsed, routes);
  return list.length ? list : null;
}

export function buildEnvelope(list: HeaderList, headers: HeaderFields = fieldsOf(list)): Envelope {
  const from = addresses(headers, 'from');
  return {
    date: headerValue(headers, 'date'),
    subject: headerValue(headers, 'subject'),
    from,
    // RFC 3501 §7.4.2: sender and reply-to default to from.
    sender: addresses(headers, 'sender') ?? from,
    replyTo: addresses(headers, 'reply-to') ?? from,
    to: addresses(headers, 'to'),
    cc: addresses(headers, 'cc'),
    bcc: addresses(headers, 'bcc'),
    inReplyTo: headerValue(headers, 'in-reply-to'),
    messageId: headerValue(headers, 'message-id'),
  };
}

/**
 * RFC 3977 §8.3.1: fields unfolded, TAB/CR/LF replaced by spaces; NUL too, which no line of
 * an NNTP multi-line block may carry (RFC 3977 §3.1.1).
 */
const clean = (v: string | null) => (v ?? '').replace(/[\t\r\n\0]/g, ' ');

export function buildOverview(
  list: HeaderList,
  bytes: number,
  lines: number,
  headers: HeaderFields = fieldsOf(list),
): Overview {
  return {
    subject: clean(headerValue(headers, 'subject')),
    from: clean(headerValue(headers, 'from')),
    date: clean(headerValue(headers, 'date')),
    messageId: clean(headerValue(headers, 'message-id')),
    references: clean(headerValue(headers, 'references')),
    bytes,
    lines,
  };
}
