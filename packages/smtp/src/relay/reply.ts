/**
 * SMTP replies as the relay client reads them: a code, an optional enhanced status code, and
 * the text of every line (RFC 5321 §4.2, RFC 2034 §4).
 */
import type { LineChannel } from '@postern/core';

export interface SmtpReply {
  code: number;
  /** `x.y.z` when the server sent one on the first line. */
  enhanced?: string;
  lines: string[];
}

export class SmtpProtocolError extends Error {
  readonly code = 'SMTP_PROTOCOL';
  constructor(message: string) {
    super(message);
    this.name = 'SmtpProtocolError';
  }
}

/** RFC 5321 §4.5.3.1.5: a reply line is at most 512 octets; we tolerate a little more. */
const MAX_REPLY_LINES = 200;

/** Reads one (possibly multi-line) reply: `250-…` continues, `250 …` ends it. */
export async function readReply(channel: LineChannel): Promise<SmtpReply> {
  const lines: string[] = [];
  let code = 0;
  for (;;) {
    const line = await channel.readLine();
    const m = /^([2-5][0-9][0-9])([ -]|$)(.*)$/.exec(line);
    if (!m) throw new SmtpProtocolError(`malformed reply line: ${JSON.stringify(line.slice(0, 80))}`);
    const lineCode = Number(m[1]);
    if (code === 0) code = lineCode;
    else if (lineCode !== code)
      throw new SmtpProtocolError(`reply code changed mid-reply (${code} then ${lineCode})`);
    lines.push(m[3]!);
    if (lines.length > MAX_REPLY_LINES) throw new SmtpProtocolError('reply too long');
    if (m[2] !== '-') break;
  }
  const enhanced = /^([245]\.\d{1,3}\.\d{1,3})(?: |$)/.exec(lines[0] ?? '')?.[1];
  return { code, enhanced, lines };
}

export function replyText(r: SmtpReply): string {
  return `${r.code} ${r.lines.join(' / ')}`.trim();
}

export const isPositive = (r: SmtpReply) => r.code >= 200 && r.code < 400;
export const isTransient = (r: SmtpReply) => r.code >= 400 && r.code < 500;
export const isPermanent = (r: SmtpReply) => r.code >= 500;
