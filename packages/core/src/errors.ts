/**
 * Typed errors shared by every protocol. Each carries a stable `code`; protocol packages map
 * codes to their own replies (SMTP 500 5.5.6, IMAP BAD, POP3 -ERR, NNTP 501) so nothing is
 * swallowed and no protocol text leaks into core.
 */
export type PosternErrorCode =
  | 'LINE_TOO_LONG'
  | 'BLOCK_TOO_LARGE'
  | 'IDLE_TIMEOUT'
  | 'COMMAND_TIMEOUT'
  | 'PRE_AUTH_TIMEOUT'
  | 'CHANNEL_CLOSED'
  | 'UPGRADE_FAILED'
  | 'TLS_ALERT'
  | 'TLS_HANDSHAKE_TIMEOUT'
  | 'CERTIFICATE'
  | 'CONFIG';

export class PosternError extends Error {
  readonly code: PosternErrorCode;
  constructor(code: PosternErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** A line exceeded the channel's maximum; the channel has already resynchronised at the next CRLF. */
export class LineTooLongError extends PosternError {
  constructor(readonly limit: number) {
    super('LINE_TOO_LONG', `line longer than ${limit} octets`);
  }
}

/** A dot-terminated block or literal exceeded its byte limit; the rest of it was read and dropped. */
export class BlockTooLargeError extends PosternError {
  constructor(readonly limit: number) {
    super('BLOCK_TOO_LARGE', `data larger than ${limit} octets`);
  }
}

export class IdleTimeoutError extends PosternError {
  constructor(
    readonly timeoutMs: number,
    code: PosternErrorCode = 'IDLE_TIMEOUT',
    message = `no input for ${timeoutMs} ms`,
  ) {
    super(code, message);
  }
}

/**
 * A command line was not complete within its deadline, counted from its first octet: bytes
 * trickling in do not extend it. A kind of IdleTimeoutError, so every protocol that answers an
 * idle timeout (its autologout goodbye) answers this one the same way.
 */
export class CommandTimeoutError extends IdleTimeoutError {
  constructor(timeoutMs: number) {
    super(timeoutMs, 'COMMAND_TIMEOUT', `command line not complete within ${timeoutMs} ms`);
  }
}

/**
 * The connection did not authenticate within its pre-auth deadline, counted from connect. A
 * kind of IdleTimeoutError for the same reason as CommandTimeoutError.
 */
export class PreAuthTimeoutError extends IdleTimeoutError {
  constructor(timeoutMs: number) {
    super(timeoutMs, 'PRE_AUTH_TIMEOUT', `not authenticated within ${timeoutMs} ms of connecting`);
  }
}

export class ChannelClosedError extends PosternError {
  constructor(message = 'connection closed') {
    super('CHANNEL_CLOSED', message);
  }
}

export class UpgradeError extends PosternError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UPGRADE_FAILED', message, options);
  }
}

export class ConfigError extends PosternError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CONFIG', message, options);
  }
}

export class CertificateError extends PosternError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('CERTIFICATE', message, options);
  }
}
