/**
 * Header sections (RFC 5322 §2.2): unfolding, field splitting, and the MIME fields the index
 * keeps (RFC 2045, RFC 2183 Content-Disposition, RFC 2231 parameters via libmime).
 */
import libmime from 'libmime';

export type HeaderList = Array<[name: string, value: string]>;

/** A field name as RFC 5322 §3.6.8 allows it: printable US-ASCII except ":". */
const FIELD_NAME = /^[!-9;-~]+$/;

/** Field lines of a header block (without the blank line), unfolded; junk lines are skipped. */
export function parseHeaderBlock(raw: string): HeaderList {
  const out: HeaderList = [];
  const n = raw.length;
  // The next ":" at or after the current line; searched again only once a line passes it.
  let colon = -2;
  for (let pos = 0; pos <= n;) {
    let lf = raw.indexOf('\n', pos);
    // Lines end in LF or CRLF (a lone CR, or one at the very end, is part of the line).
    let end = lf;
    if (lf === -1) end = lf = n;
    else if (lf > pos && raw.charCodeAt(lf - 1) === 13) end = lf - 1;
    const start = pos;
    pos = lf + 1;
    if (end === start) continue;
    const c0 = raw.charCodeAt(start);
    if ((c0 === 32 || c0 === 9) && out.length > 0) {
      // RFC 5322 §2.2.3: unfolding removes the CRLF, keeps the whitespace.
      out[out.length - 1]![1] += raw.slice(start, end);
      continue;
    }
    if (colon < start && colon !== -1) colon = raw.indexOf(':', start);
    // Malformed MIME is indexed as best we can: a line without a field name is ignored.
    if (colon === -1 || colon >= end || colon === start) continue;
    let name: string | undefined;
    let plain = true;
    for (let i = start; i < colon; i++) {
      const c = raw.charCodeAt(i);
      if (c < 0x21 || c > 0x7e) {
        plain = false;
        break;
      }
    }
    if (plain) name = raw.slice(start, colon);
    else {
      name = raw.slice(start, colon).trimEnd();
      if (!FIELD_NAME.test(name)) continue;
    }
    out.push([name, raw.slice(colon + 1, end).trim()]);
  }
  return out;
}

/** The first value of each field, by lower-case name. */
export type HeaderFields = Map<string, string>;

export function fieldsOf(headers: HeaderList): HeaderFields {
  const fields: HeaderFields = new Map();
  for (const [n, v] of headers) {
    const k = n.toLowerCase();
    if (!fields.has(k)) fields.set(k, v);
  }
  return fields;
}

/** The first value of a field (names compared without case). */
export function headerValue(headers: HeaderList | HeaderFields, name: string): string | null {
  const lower = name.toLowerCase();
  if (headers instanceof Map) return headers.get(lower) ?? null;
  for (const [n, v] of headers) if (n.toLowerCase() === lower) return v;
  return null;
}

export interface ContentFields {
  type: string;
  subtype: string;
  params: Record<string, string>;
  id: string | null;
  description: string | null;
  encoding: string;
  disposition: { type: string; params: Record<string, string> } | null;
  language: string[] | null;
  location: string | null;
  md5: string | null;
}

/** RFC 2045 token characters, as the Content-Type check below spells them, and "/". */
const TYPE_CHAR = new Uint8Array(128);
for (const c of "!#$%&'*+.^_`|~-/0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
  TYPE_CHAR[c.charCodeAt(0)] = 1;

const isWsp = (c: number) => c === 32 || c === 9;

/**
 * `type/subtype; key=value; key="quoted value"` with nothing libmime would read differently
 * from its plain reading (no escapes, comments-free, no RFC 2231 `*` keys, no whitespace
 * inside a value, no junk after a quoted value): the same `{ value, params }` as
 * libmime.parseHeaderValue, or undefined to leave the value to libmime.
 */
export function parseSimpleParams(
  str: string,
): { value: string; params: Record<string, string> } | undefined {
  const n = str.length;
  let i = 0;
  while (i < n && isWsp(str.charCodeAt(i))) i++;
  const vStart = i;
  while (i < n) {
    const c = str.charCodeAt(i);
    if (c >= 128 || TYPE_CHAR[c] === 0) break;
    i++;
  }
  if (i === vStart) return undefined;
  const value = str.slice(vStart, i);
  const params: Record<string, string> = {};
  for (;;) {
    while (i < n && isWsp(str.charCodeAt(i))) i++;
    if (i === n) return { value, params };
    if (str.charCodeAt(i) !== 0x3b) return undefined; // ";"
    i++;
    while (i < n && isWsp(str.charCodeAt(i))) i++;
    if (i === n) return { value, params };
    const kStart = i;
    while (i < n) {
      const c = str.charCodeAt(i);
      // Token characters except "*" (RFC 2231 continuations and charsets) and "/".
      if (c >= 128 || TYPE_CHAR[c] === 0 || c === 0x2a || c === 0x2f) break;
      i++;
    }
    if (i === kStart || i === n || str.charCodeAt(i) !== 0x3d) return undefined; // "="
    const key = str.slice(kStart, i).toLowerCase();
    if (key === '__proto__') return undefined;
    i++;
    let v: string;
    if (i < n && str.charCodeAt(i) === 0x22) {
      const qStart = ++i;
      while (i < n) {
        const c = str.charCodeAt(i);
        if (c === 0x22) break;
        if (c < 0x20 || c > 0x7e || c === 0x5c) return undefined;
        i++;
      }
      if (i === n) return undefined;
      v = str.slice(qStart, i);
      i++;
    } else {
      const tStart = i;
      while (i < n) {
        const c = str.charCodeAt(i);
        if (c <= 0x20 || c > 0x7e || c === 0x22 || c === 0x3b || c === 0x5c) break;
        i++;
      }
      if (i === tStart) return undefined;
      v = str.slice(tStart, i);
    }
    if (!Object.hasOwn(params, key)) params[key] = v;
  }
}

function safeParse(value: string): { value: string; params: Record<string, string> } {
  const simple = parseSimpleParams(value);
  if (simple) return simple;
  try {
    const p = libmime.parseHeaderValue(value);
    const params: Record<string, string> = {};
    for (const [k, v] of Object.entries(p.params ?? {})) params[k.toLowerCase()] = String(v);
    return { value: String(p.value ?? ''), params };
  } catch {
    return { value: value.split(';')[0]!.trim(), params: {} };
  }
}

/**
 * The MIME fields of one part. RFC 2045 §5.2: a missing or unparsable Content-Type means
 * text/plain; charset=us-ascii — except inside multipart/digest, where it is message/rfc822.
 */
export function contentFields(
  headers: HeaderList,
  parentIsDigest: boolean,
  fields: HeaderFields = fieldsOf(headers),
): ContentFields {
  const ct = fields.get('content-type');
  let type = parentIsDigest ? 'message' : 'text';
  let subtype = parentIsDigest ? 'rfc822' : 'plain';
  let params: Record<string, string> = parentIsDigest ? {} : { charset: 'us-ascii' };
  if (ct) {
    const parsed = safeParse(ct);
    const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+)\/([!#$%&'*+.^_`|~0-9A-Za-z-]+)$/.exec(parsed.value.trim());
    if (m) {
      type = m[1]!.toLowerCase();
      subtype = m[2]!.toLowerCase();
      params = parsed.params;
    }
  }
  const cd = fields.get('content-disposition') ?? null;
  let disposition: ContentFields['disposition'] = null;
  if (cd) {
    const parsed = safeParse(cd);
    if (parsed.value) disposition = { type: parsed.value.toLowerCase(), params: parsed.params };
  }
  const lang = fields.get('content-language') ?? null;
  const cte = fields.get('content-transfer-encoding') ?? null;
  return {
    type,
    subtype,
    params,
    id: fields.get('content-id') ?? null,
    description: fields.get('content-description') ?? null,
    encoding: cte ? cte.trim().split(/[\s;]/)[0]!.toUpperCase() || '7BIT' : '7BIT',
    disposition,
    language: lang
      ? lang
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean)
      : null,
    location: fields.get('content-location') ?? null,
    md5: fields.get('content-md5') ?? null,
  };
}

export function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}
