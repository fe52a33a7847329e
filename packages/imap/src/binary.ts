/**
 * BINARY (RFC 3516): a part's content with its Content-Transfer-Encoding undone, so clients
 * need not decode base64 or quoted-printable themselves.
 */
import { no } from './errors.js';

/** Quoted-printable (RFC 2045 §6.7): soft line breaks removed, =XX decoded. */
export function decodeQuotedPrintable(input: Buffer): Buffer {
  const out = Buffer.alloc(input.length);
  let n = 0;
  for (let i = 0; i < input.length; i++) {
    const c = input[i];
    if (c !== 0x3d) {
      out[n++] = c;
      continue;
    }
    // '=' then CRLF (or LF, or trailing spaces then CRLF): a soft line break.
    let j = i + 1;
    while (input[j] === 0x20 || input[j] === 0x09) j++;
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
