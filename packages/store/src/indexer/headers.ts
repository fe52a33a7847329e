/**
 * Header sections (RFC 5322 §2.2): unfolding, field splitting, and the MIME fields the index
 * keeps (RFC 2045, RFC 2183 Content-Disposition, RFC 2231 parameters via libmime).
 */
import libmime from 'libmime';

export type HeaderList = Array<[name: string, value: string]>;

/** Field lines of a header block (without the blank line), unfolded; junk lines are skipped. */
export function parseHeaderBlock(raw: string): HeaderList {
  const out: HeaderList = [];
  for (const line of raw.split(/\r?\n/)) {
    if (line === '') continue;
    if ((line[0] === ' ' || line[0] === '\t') && out.length > 0) {
      // RFC 5322 §2.2.3: unfolding removes the CRLF, keeps the whitespace.
      out[out.length - 1]![1] += line;
      continue;
    }
    const colon = line.indexOf(':');
    // Malformed MIME is indexed as best we can: a line without a field name is ignored.
    if (colon <= 0 || !/^[!-9;-~]+$/.test(line.slice(0, colon).trimEnd())) continue;
    out.push([line.slice(0, colon).trimEnd(), line.slice(colon + 1).trim()]);
  }
  return out;
}

export function headerValue(headers: HeaderList, name: string): string | null {
  const lower = name.toLowerCase();
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

function safeParse(value: string): { value: string; params: Record<string, string> } {
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
export function contentFields(headers: HeaderList, parentIsDigest: boolean): ContentFields {
  const ct = headerValue(headers, 'content-type');
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
  const cd = headerValue(headers, 'content-disposition');
  let disposition: ContentFields['disposition'] = null;
  if (cd) {
    const parsed = safeParse(cd);
    if (parsed.value) disposition = { type: parsed.value.toLowerCase(), params: parsed.params };
  }
  const lang = headerValue(headers, 'content-language');
  const cte = headerValue(headers, 'content-transfer-encoding');
  return {
    type,
    subtype,
    params,
    id: headerValue(headers, 'content-id'),
    description: headerValue(headers, 'content-description'),
    encoding: cte ? cte.trim().split(/[\s;]/)[0]!.toUpperCase() || '7BIT' : '7BIT',
    disposition,
    language: lang
      ? lang
          .split(',')
          .map((l) => l.trim())
          .filter(Boolean)
      : null,
    location: headerValue(headers, 'content-location'),
    md5: headerValue(headers, 'content-md5'),
  };
}

export function decodeWords(value: string): string {
  try {
    return libmime.decodeWords(value);
  } catch {
    return value;
  }
}
