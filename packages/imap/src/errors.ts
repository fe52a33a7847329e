/**
 * Typed refusals. Every failure a command can meet carries the tagged reply it produces:
 * NO (the command failed) or BAD (the command was malformed), with an optional response
 * code (RFC 3501 §7.1, RFC 5530). `fatal` ends the session after the reply (BYE first).
 */
export type ReplyStatus = 'NO' | 'BAD';

export class ImapError extends Error {
  constructor(
    readonly status: ReplyStatus,
    text: string,
    readonly code?: string,
    readonly fatal = false,
  ) {
    super(text);
    this.name = 'ImapError';
  }

  /** The tagged line for `tag` (RFC 3501 §7.1). */
  reply(tag: string): string {
    return `${tag} ${this.status} ${this.code ? `[${this.code}] ` : ''}${this.message}\r\n`;
  }
}

/** BAD: a syntax error (RFC 3501 §7.1.5). */
export function bad(text: string, code?: string): ImapError {
  return new ImapError('BAD', text, code);
}

/** NO: the command was understood but failed (RFC 3501 §7.1.2). */
export function no(text: string, code?: string): ImapError {
  return new ImapError('NO', text, code);
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
