/**
 * NNTP replies and the typed error that carries one. A handler that refuses a command throws an
 * NntpError; the session writes its reply line and goes on (or closes when `fatal`).
 * Response codes are those of RFC 3977 §3.2 and the extensions' own sections.
 */

/** One status line: three digits, a space, text, CRLF (RFC 3977 §3.2). */
export function statusLine(code: number, text: string): string {
  return `${code} ${text.replace(/[\r\n]+/g, ' ')}\r\n`;
}

/**
 * A multi-line block of text lines (RFC 3977 §3.1.1): each line that starts with "." gets a
 * second one, and the block ends with "." CRLF.
 */
export function textBlock(lines: Iterable<string>): string {
  let out = '';
  for (const line of lines) out += (line.startsWith('.') ? '.' : '') + line + '\r\n';
  return out + '.\r\n';
}

export interface NntpErrorOptions {
  /** Close the connection after the reply (too many errors, shutdown). */
  fatal?: boolean;
  cause?: unknown;
}

/** A refusal carrying its NNTP reply. */
export class NntpError extends Error {
  readonly fatal: boolean;

  constructor(
    readonly code: number,
    readonly text: string,
    options: NntpErrorOptions = {},
  ) {
    super(`${code} ${text}`, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'NntpError';
    this.fatal = options.fatal ?? false;
  }

  /** The reply line, CRLF included. */
  get reply(): string {
    return statusLine(this.code, this.text);
  }

  /** 500 and 501 are the client's mistakes and count toward the session's error limit. */
  get counts(): boolean {
    return this.code === 500 || this.code === 501;
  }
}

/** RFC 3977 §3.2.1: the generic replies. */
export const unknownCommand = (): NntpError => new NntpError(500, 'Unknown command');
export const syntaxError = (detail = 'Syntax error'): NntpError => new NntpError(501, detail);
export const notPermitted = (detail: string): NntpError => new NntpError(502, detail);
/** RFC 4643 §2.1: the command needs authentication first. */
export const authRequired = (): NntpError => new NntpError(480, 'Authentication required');

/** Raised when the connection can only be dropped (a reply is already half on the wire). */
export class DropConnection extends Error {
  constructor(reason: string, options?: { cause?: unknown }) {
    super(reason, options);
    this.name = 'DropConnection';
  }
}

/** An error's message for a log line: never a command line, so never a password. */
export function errorText(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
