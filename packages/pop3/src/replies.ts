/**
 * POP3 replies and the typed error that carries one. Every refusal a command handler decides on
 * is thrown as a Pop3Error; the session writes its reply and goes on (or closes when `fatal`).
 */
import { StoreError, type StoreErrorCode } from '@postern/store';

/**
 * Extended response codes (RFC 2449 §8): IN-USE and LOGIN-DELAY (§8.1), SYS/TEMP and SYS/PERM
 * (RFC 3206 §4), AUTH (RFC 3206 §5, announced by AUTH-RESP-CODE, RFC 3206 §6).
 */
export type Pop3ResponseCode = 'IN-USE' | 'LOGIN-DELAY' | 'SYS/TEMP' | 'SYS/PERM' | 'AUTH';

/** The one line of a negative reply: `-ERR [CODE] text` (RFC 2449 §8). */
export function errLine(text: string, code?: Pop3ResponseCode): string {
  return code ? `-ERR [${code}] ${text}\r\n` : `-ERR ${text}\r\n`;
}

/** The one line of a positive reply (RFC 1939 §3). */
export function okLine(text?: string): string {
  return text ? `+OK ${text}\r\n` : '+OK\r\n';
}

/**
 * A multi-line reply of short protocol lines (CAPA, LIST, UIDL, AUTH without a mechanism):
 * none of them starts with a dot, and the block ends with the termination octet (RFC 1939 §3).
 */
export function multiLine(first: string, lines: readonly string[]): string {
  let out = okLine(first);
  for (const line of lines) out += (line.startsWith('.') ? '.' : '') + line + '\r\n';
  return out + '.\r\n';
}

export interface Pop3ErrorOptions {
  code?: Pop3ResponseCode;
  /** Close the connection after the reply (too many errors, autologout, shutdown). */
  fatal?: boolean;
  /** Whether the reply counts toward the session's error limit (default true). */
  counts?: boolean;
  cause?: unknown;
}

/** A refusal carrying its reply. */
export class Pop3Error extends Error {
  readonly code: Pop3ResponseCode | undefined;
  readonly fatal: boolean;
  readonly counts: boolean;

  constructor(
    readonly text: string,
    options: Pop3ErrorOptions = {},
  ) {
    super(text, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'Pop3Error';
    this.code = options.code;
    this.fatal = options.fatal ?? false;
    this.counts = options.counts ?? true;
  }

  /** The reply line, CRLF included. */
  get reply(): string {
    return errLine(this.text, this.code);
  }
}

/** Raised when the connection can only be dropped (the reply is already half on the wire). */
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

/**
 * The `code` of a store failure. Checked by shape as well as by class: a backend loaded through
 * another module instance (the store's lazy backends) throws an equal but distinct StoreError.
 */
export function storeErrorCode(err: unknown): StoreErrorCode | undefined {
  if (err instanceof StoreError) return err.code;
  if (
    err instanceof Error &&
    err.name === 'StoreError' &&
    typeof (err as { code?: unknown }).code === 'string'
  ) {
    return (err as unknown as { code: StoreErrorCode }).code;
  }
  return undefined;
}
