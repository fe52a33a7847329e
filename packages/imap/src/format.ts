/**
 * Rendering data items (RFC 3501 §4, §7.4.2): strings as quoted or literal, NIL, dates, and
 * the ENVELOPE and BODY/BODYSTRUCTURE structures from the store's index.
 */
import type { Envelope, EnvelopeAddress, MimePart } from '@postern/store';

/** A response is built from text and raw octets (literals). */
/**
 * Octets read from the store while they are written, for a literal too large to hold whole:
 * exactly `length` of them, or the connection is dropped (the literal's length is already sent).
 */
export interface StreamedOctets {
  readonly length: number;
  open(): Promise<AsyncIterable<Uint8Array>>;
}

export type Chunk = string | Buffer | StreamedOctets;

const PRINTABLE = /^[\x20-\x7e]*$/;
const QUOTED_SPECIALS = /[\\"]/;

/**
 * string (RFC 3501 §4.3): quoted when it can be, else a literal. A literal is CHAR8, which
 * has no NUL (RFC 3501 §9; only BINARY's literal8 may carry one): a NUL that came in with a
 * message header is sent as U+FFFD, the replacement character.
 */
export function str(value: string): string {
  if (value.length < 1000 && PRINTABLE.test(value))
    return QUOTED_SPECIALS.test(value) ? `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"` : `"${value}"`;
  const text = value.includes('\0') ? value.replaceAll('\0', '\uFFFD') : value;
  return `{${Buffer.byteLength(text, 'utf8')}}\r\n${text}`;
}

export function nstr(value: string | null | undefined): string {
  return value === null || value === undefined ? 'NIL' : str(value);
}

/** astring for mailbox names in LIST/STATUS responses: atom when safe. */
export function astr(value: string): string {
  if (/^[\x21-\x7e]+$/.test(value) && !/[(){%*"\\\]]/.test(value)) return value;
  return str(value);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** date-time = DQUOTE date-day-fixed "-" date-month "-" date-year SP time SP zone DQUOTE (UTC). */
export function formatInternalDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  const day = String(d.getUTCDate()).padStart(2, ' ');
  return `"${day}-${MONTHS[d.getUTCMonth()]}-${d.getUTCFullYear()} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} +0000"`;
}

/** Parse date-time (RFC 3501 §9) as APPEND gives it; undefined when malformed. */
export function parseDateTime(text: string): Date | undefined {
  const m = /^ ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2].toLowerCase());
  if (month === -1) return undefined;
  const utc = Date.UTC(Number(m[3]), month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6]));
  const offset = (Number(m[8]) * 60 + Number(m[9])) * (m[7] === '+' ? 1 : -1);
  const d = new Date(utc - offset * 60_000);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** date = date-text / DQUOTE date-text DQUOTE, date-text = date-day "-" date-month "-" date-year (SEARCH). */
export function parseSearchDate(text: string): Date | undefined {
  const m = /^(\d{1,2})-([A-Za-z]{3})-(\d{4})$/.exec(text);
  if (!m) return undefined;
  const month = MONTHS.findIndex((x) => x.toLowerCase() === m[2].toLowerCase());
  if (month === -1) return undefined;
  return new Date(Date.UTC(Number(m[3]), month, Number(m[1])));
}

function addresses(list: EnvelopeAddress[] | null): string {
  if (!list || list.length === 0) return 'NIL';
  return `(${list.map((a) => `(${nstr(a.name)} ${nstr(a.adl)} ${nstr(a.mailbox)} ${nstr(a.host)})`).join('')})`;
}

/**
 * RFC 3501 §7.4.2 ENVELOPE: date, subject, from, sender, reply-to, to, cc, bcc, in-reply-to,
 * message-id. "If the Sender or Reply-To lines are absent in the [RFC-2822] header, or are
 * present but empty, the server sets the corresponding member of the envelope to be the same
 * value as the from member."
 */
export function envelope(e: Envelope): string {
  const sender = e.sender && e.sender.length > 0 ? e.sender : e.from;
  const replyTo = e.replyTo && e.replyTo.length > 0 ? e.replyTo : e.from;
  return `(${[
    nstr(e.date),
    nstr(e.subject),
    addresses(e.from),
    addresses(sender),
    addresses(replyTo),
    addresses(e.to),
    addresses(e.cc),
    addresses(e.bcc),
    nstr(e.inReplyTo),
    nstr(e.messageId),
  ].join(' ')})`;
}

function paramList(params: Record<string, string>): string {
  const entries = Object.entries(params);
  if (entries.length === 0) return 'NIL';
  return `(${entries.map(([k, v]) => `${str(k.toUpperCase())} ${str(v)}`).join(' ')})`;
}

function disposition(part: MimePart): string {
  if (!part.disposition) return 'NIL';
  return `(${str(part.disposition.type.toUpperCase())} ${paramList(part.disposition.params)})`;
}

function language(part: MimePart): string {
  if (!part.language || part.language.length === 0) return 'NIL';
  if (part.language.length === 1) return str(part.language[0]);
  return `(${part.language.map(str).join(' ')})`;
}

/**
 * RFC 3501 §7.4.2 BODY and BODYSTRUCTURE. `extensible` adds the extension data
 * (BODYSTRUCTURE): for multiparts parameters, disposition, language, location; for single
 * parts MD5, disposition, language, location.
 */
export function bodyStructure(part: MimePart, extensible: boolean): string {
  if (part.type === 'multipart') {
    // body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
    const children = part.parts.map((p) => bodyStructure(p, extensible)).join('');
    const fields = [str(part.subtype.toUpperCase())];
    if (extensible)
      fields.push(paramList(part.params), disposition(part), language(part), nstr(part.location));
    return `(${children || '("TEXT" "PLAIN" NIL NIL NIL "7BIT" 0 0)'} ${fields.join(' ')})`;
  }
  // body-fields = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP body-fld-octets
  const fields = [
    str(part.type.toUpperCase()),
    str(part.subtype.toUpperCase()),
    paramList(part.params),
    nstr(part.id),
    nstr(part.description),
    str(part.encoding.toUpperCase()),
    String(part.bodyEnd - part.bodyStart),
  ];
  if (part.type === 'message' && part.subtype === 'rfc822' && part.message) {
    // body-type-msg = media-message SP body-fields SP envelope SP body SP body-fld-lines
    fields.push(
      envelope(part.message.envelope),
      bodyStructure(part.message.root, extensible),
      String(part.lines),
    );
  } else if (part.type === 'text') {
    // body-type-text = media-text SP body-fields SP body-fld-lines
    fields.push(String(part.lines));
  }
  if (extensible) fields.push(nstr(part.md5), disposition(part), language(part), nstr(part.location));
  return `(${fields.join(' ')})`;
}
