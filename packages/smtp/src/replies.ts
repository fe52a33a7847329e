/**
 * SMTP replies: a code, an RFC 3463 enhanced status code on every reply (RFC 2034), and text.
 * Errors that end a command carry the reply they map to.
 */
export class SmtpReply {
  constructor(
    readonly code: number,
    readonly enhanced: string | undefined,
    readonly lines: readonly string[],
  ) {}

  static of(code: number, enhanced: string | undefined, text: string | readonly string[]): SmtpReply {
    return new SmtpReply(code, enhanced, typeof text === 'string' ? [text] : text);
  }

  private text: string | undefined;

  /** RFC 5321 §4.2.1: `250-…` for every line but the last. */
  format(): string {
    return (this.text ??= this.render());
  }

  private render(): string {
    const prefix = this.enhanced ? `${this.enhanced} ` : '';
    const last = this.lines.length - 1;
    // One line is nearly every reply: no array to map and join.
    if (last === 0) return `${this.code} ${prefix}${this.lines[0]}\r\n`;
    let out = '';
    for (let i = 0; i <= last; i++)
      out += `${this.code}${i === last ? ' ' : '-'}${i === 0 ? prefix : ''}${this.lines[i]}\r\n`;
    return out;
  }

  get isError(): boolean {
    return this.code >= 400;
  }
}

/** A command failed; the session answers with `reply` and goes on (unless `close`). */
export class SmtpError extends Error {
  readonly reply: SmtpReply;
  constructor(
    code: number,
    enhanced: string,
    text: string,
    readonly close = false,
  ) {
    super(`${code} ${enhanced} ${text}`);
    this.name = 'SmtpError';
    this.reply = SmtpReply.of(code, enhanced, text);
  }
}

export const reply = SmtpReply.of;

// Replies used in more than one place.
export const R = {
  ok: () => reply(250, '2.0.0', 'OK'),
  badSequence: (text: string) => new SmtpError(503, '5.5.1', text),
  syntax: (text: string) => new SmtpError(501, '5.5.4', text),
  unrecognized: () => new SmtpError(500, '5.5.2', 'Command not recognized'),
  lineTooLong: () => reply(500, '5.5.2', 'Line too long'),
  tooManyErrors: () => reply(421, '4.7.0', 'Too many errors, closing connection'),
  idle: () => reply(421, '4.4.2', 'Idle timeout, closing connection'),
  // RFC 5321 §4.5.3.2: the server may end a session that is too slow; 4.4.2 "bad connection".
  commandTimeout: () => reply(421, '4.4.2', 'Command not completed in time, closing connection'),
  preAuthTimeout: () => reply(421, '4.4.2', 'Not authenticated in time, closing connection'),
  shuttingDown: () => reply(421, '4.3.2', 'Service shutting down, try again later'),
  tempFailure: () => new SmtpError(451, '4.3.0', 'Temporary failure, message not accepted; try again later'),
};
