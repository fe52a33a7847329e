/**
 * BINARY (RFC 3516): a part's content with its Content-Transfer-Encoding undone, so clients
 * need not decode base64 or quoted-printable themselves.
 */
import { no } from './errors.js';

const isWsp = (c: number | undefined) => c === 0x20 || c === 0x09;

/**
 * Quoted-printable (RFC 2045 §6.7): soft line breaks removed, =XX decoded, and whitespace at
 * the end of a line deleted (rule 3: it was added by some transport, never by the encoder).
 */
export function decodeQuotedPrintable(input: Buffer): Buffer {
  const out = Buffer.alloc(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (isWsp(c)) {
      let j = i + 1;
      while (isWsp(input[j])) j++;
      const eol = j === input.length || input[j] === 0x0a || (input[j] === 0x0d && input[j + 1] === 0x0a);
      if (eol) {
        i = j - 1;
        continue;
      }
      out.set(input.subarray(i, j), n);
      n += j - i;
      i = j - 1;
      continue;
    }
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    // '=' then CRLF (or LF, or trailing spaces then CRLF): a soft line break.
    let j = i + 1;
    while (isWsp(input[j])) j++;
    if (input[j] === 0x0d && input[j + 1] === 0x0a) {
      i = j + 1;
      continue;
    }
    if (input[j] === 0x0a) {
      i = j;
      continue;
    }
    const hex = input.subarray(i + 1, i + 3).toString('latin1');
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out[n++] = parseInt(hex, 16);
      i += 2;
    } else {
      out[n++] = c; // a lone '=' is kept (RFC 2045 §6.7 note 2: be robust)
    }
  }
  return out.subarray(0, n);
}

/** Undo a Content-Transfer-Encoding; NO [UNKNOWN-CTE] for one we do not know (RFC 3516 §4.3). */
export function decodeTransfer(encoding: string, body: Buffer): Buffer {
  switch (encoding.toUpperCase()) {
    case '7BIT':
    case '8BIT':
    case 'BINARY':
      return body;
    case 'BASE64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'QUOTED-PRINTABLE':
      return decodeQuotedPrintable(body);
    default:
      throw no(`unknown content transfer encoding ${encoding}`, 'UNKNOWN-CTE');
  }
}
