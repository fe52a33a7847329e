/**
 * The header block of an article or a mail message (RFC 5322 §2.2, RFC 5536 §2), kept as the
 * octets it arrived as so that rewriting one field (Path, Newsgroups) leaves every other one
 * byte for byte intact. Octets are handled as latin1: a header's UTF-8 survives unchanged.
 */

export class ArticleFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ArticleFormatError';
  }
}

interface Field {
  /** As written. */
  name: string;
  /** The field's lines as received, CRLF included. */
  raw: string;
}

const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;

/** Normalise bare LF line ends to CRLF (mail handed over by local tools, test fixtures). */
function toCrlf(data: Buffer): Buffer {
  if (!data.includes(0x0a)) return data;
  const text = data.toString('latin1');
  if (!/(^|[^\r])\n/.test(text)) return data;
  return Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'latin1');
}

export class ParsedArticle {
  private constructor(
    private fields: Field[],
    readonly body: Buffer,
  ) {}

  /** Split and check the header block; throws ArticleFormatError for anything malformed. */
  static parse(input: Buffer): ParsedArticle {
    const data = toCrlf(input);
    let headerEnd: number;
    let bodyStart: number;
    if (data.subarray(0, 2).toString('latin1') === '\r\n') {
      headerEnd = 0;
      bodyStart = 2;
    } else {
      const sep = data.indexOf('\r\n\r\n', 0, 'latin1');
      if (sep === -1) {
        // No body at all: the whole article is its header block.
        headerEnd = data.length;
        bodyStart = data.length;
      } else {
        headerEnd = sep + 2;
        bodyStart = sep + 4;
      }
    }
    const text = data.subarray(0, headerEnd).toString('latin1');
    const lines = text.split('\r\n');
    if (lines[lines.length - 1] === '') lines.pop();
    const fields: Field[] = [];
    for (const line of lines) {
      if (line.startsWith(' ') || line.startsWith('\t')) {
        const last = fields[fields.length - 1];
        if (!last) throw new ArticleFormatError('header block starts with a continuation line');
        last.raw += line + '\r\n';
        continue;
      }
      const colon = line.indexOf(':');
      const name = colon > 0 ? line.slice(0, colon) : '';
      if (!FIELD_NAME.test(name)) throw new ArticleFormatError('malformed header line');
      fields.push({ name, raw: line + '\r\n' });
    }
    if (fields.length === 0) throw new ArticleFormatError('article has no header fields');
    return new ParsedArticle(fields, data.subarray(bodyStart));
  }

  private find(name: string): Field[] {
    const lower = name.toLowerCase();
    return this.fields.filter((f) => f.name.toLowerCase() === lower);
  }

  /** Unfolded, trimmed values of every field with this name. */
  all(name: string): string[] {
    return this.find(name).map((f) =>
      f.raw
        .slice(f.name.length + 1)
        .replace(/\r\n(?=[ \t])/g, '')
        .replace(/\r\n$/, '')
        .trim(),
    );
  }

  get(name: string): string | undefined {
    return this.all(name)[0];
  }

  has(name: string): boolean {
    return this.find(name).length > 0;
  }

  count(name: string): number {
    return this.find(name).length;
  }

  /** Replace every field of this name with one (at the first one's place), or append it. */
  set(name: string, value: string): void {
    const lower = name.toLowerCase();
    const raw = `${name}: ${value}\r\n`;
    const at = this.fields.findIndex((f) => f.name.toLowerCase() === lower);
    if (at === -1) {
      this.fields.push({ name, raw });
      return;
    }
    this.fields = this.fields.filter((f, i) => i === at || f.name.toLowerCase() !== lower);
    this.fields[at] = { name, raw };
  }

  /** Add a field at the top of the block (trace fields go first, RFC 5322 §3.6.7). */
  prepend(name: string, value: string): void {
    this.fields.unshift({ name, raw: `${name}: ${value}\r\n` });
  }

  remove(name: string): void {
    const lower = name.toLowerCase();
    this.fields = this.fields.filter((f) => f.name.toLowerCase() !== lower);
  }

  toBuffer(): Buffer {
    const head = Buffer.from(this.fields.map((f) => f.raw).join('') + '\r\n', 'latin1');
    return Buffer.concat([head, this.body]);
  }
}
