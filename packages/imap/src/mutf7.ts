/**
 * Modified UTF-7 mailbox names (RFC 3501 §5.1.3): printable ASCII stands for itself except
 * '&', written '&-'; other characters are UTF-16 in modified base64 (',' for '/') between
 * '&' and '-'.
 */

function toB64(units: number[]): string {
  const bytes = Buffer.alloc(units.length * 2);
  units.forEach((u, i) => bytes.writeUInt16BE(u, i * 2));
  return bytes.toString('base64').replace(/=+$/, '').replace(/\//g, ',');
}

export function encodeMutf7(name: string): string {
  let out = '';
  let pending: number[] = [];
  const flush = () => {
    if (pending.length) out += `&${toB64(pending)}-`;
    pending = [];
  };
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e) {
      flush();
      out += c === 0x26 ? '&-' : name[i];
    } else {
      pending.push(c);
    }
  }
  flush();
  return out;
}

/** Undefined when `text` is not valid modified UTF-7. */
export function decodeMutf7(text: string): string | undefined {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    const code = text.charCodeAt(i);
    if (code < 0x20 || code > 0x7e) return undefined;
    if (ch !== '&') {
      out += ch;
      continue;
    }
    const end = text.indexOf('-', i + 1);
    if (end === -1) return undefined;
    const chunk = text.slice(i + 1, end);
    i = end;
    if (chunk === '') {
      out += '&';
      continue;
    }
    if (!/^[A-Za-z0-9+,]+$/.test(chunk)) return undefined;
    const bytes = Buffer.from(chunk.replace(/,/g, '/'), 'base64');
    if (bytes.length % 2 !== 0 || bytes.length === 0) return undefined;
    let decoded = '';
    for (let j = 0; j < bytes.length; j += 2) decoded += String.fromCharCode(bytes.readUInt16BE(j));
    // A shifted run must not encode printable ASCII, which stands for itself.
    if ([...decoded].some((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) <= 0x7e)) return undefined;
    out += decoded;
  }
  return out;
}
