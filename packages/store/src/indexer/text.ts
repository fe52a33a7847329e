/**
 * Decoded text of the text/* parts, for SEARCH BODY/TEXT: transfer encoding (RFC 2045 §6)
 * and charset undone, capped so a huge message costs a bounded amount of memory.
 */
import type { MimePart } from '../types.js';

const MAX_TEXT = 1024 * 1024;

export class TextCollector {
  private pieces: string[] = [];
  private total = 0;

  get full(): boolean {
    return this.total >= MAX_TEXT;
  }

  part(part: MimePart): { write(b: Uint8Array): void; end(): void } {
    const raw: Buffer[] = [];
    let rawBytes = 0;
    // Encoded forms are larger than what they decode to: keep up to twice the cap.
    const rawCap = MAX_TEXT * 2;
    return {
      write: (b) => {
        if (this.full || rawBytes >= rawCap) return;
        const take = b.subarray(0, rawCap - rawBytes);
        raw.push(Buffer.from(take));
        rawBytes += take.length;
      },
      end: () => {
        if (this.full || rawBytes === 0) return;
        const text = decodeText(Buffer.concat(raw), part.encoding, part.params.charset);
        const room = MAX_TEXT - this.total;
        const kept = text.length > room ? text.slice(0, room) : text;
        this.pieces.push(kept);
        this.total += kept.length;
      },
    };
  }

  result(): string {
    return this.pieces.join('\n');
  }
}

function decodeTransfer(body: Buffer, encoding: string): Buffer {
  switch (encoding) {
    case 'BASE64':
      return Buffer.from(body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
    case 'QUOTED-PRINTABLE': {
      const text = body.toString('latin1').replace(/=\r?\n/g, '');
      return Buffer.from(
        text.replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
        'latin1',
      );
    }
    default:
      return body;
  }
}

export function decodeText(body: Buffer, encoding: string, charset: string | undefined): string {
  const bytes = decodeTransfer(body, encoding);
  // WHATWG encodings (Node's full ICU): every charset mail uses in practice; unknown → UTF-8.
  try {
    return new TextDecoder(charset || 'utf-8').decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes);
  }
}
