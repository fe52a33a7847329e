/**
 * Delivery status notifications (RFC 3464, RFC 3462 multipart/report) for mail the relay could
 * not deliver. Sent from the null sender so that a bounce can never bounce (RFC 5321 §6.1).
 */
import { randomBytes } from 'node:crypto';

export interface FailedRecipient {
  address: string;
  /** RFC 3463 status, e.g. 5.1.1. */
  status: string;
  /** What the remote server (or we) said. */
  diagnostic: string;
  remoteMta?: string;
}

export interface DsnInput {
  reportingMta: string;
  /** The original envelope sender: the bounce goes there. */
  to: string;
  arrivalDate: Date;
  recipients: FailedRecipient[];
  /** Header section of the original message (RET=HDRS, the default). */
  originalHeaders: Buffer;
  /** Whole original, when RET=FULL was asked for and it is small enough. */
  originalMessage?: Buffer;
  envid?: string;
  now?: Date;
}

function statusFromDiagnostic(code: number, enhanced?: string): string {
  if (enhanced) return enhanced;
  return code >= 500 ? '5.0.0' : '4.0.0';
}

export function statusOf(reply: { code: number; enhanced?: string } | undefined, permanent: boolean): string {
  if (reply) return statusFromDiagnostic(reply.code, reply.enhanced);
  return permanent ? '5.0.0' : '4.4.7';
}

/** The header section of a message: everything up to the first empty line. */
export function headerSection(message: Buffer): Buffer {
  const crlf = message.indexOf('\r\n\r\n');
  const lf = message.indexOf('\n\n');
  const end = crlf !== -1 && (lf === -1 || crlf < lf) ? crlf + 4 : lf !== -1 ? lf + 2 : message.length;
  return message.subarray(0, end);
}

export function buildDsn(input: DsnInput): Buffer {
  const boundary = `dsn-${randomBytes(12).toString('hex')}`;
  const now = input.now ?? new Date();
  const list = input.recipients.map((r) => `  <${r.address}>: ${r.diagnostic}`).join('\r\n');
  const perMessage = [
    `Reporting-MTA: dns; ${input.reportingMta}`,
    ...(input.envid ? [`Original-Envelope-Id: ${input.envid}`] : []),
    `Arrival-Date: ${input.arrivalDate.toUTCString()}`,
  ];
  const perRecipient = input.recipients.map((r) =>
    [
      `Final-Recipient: rfc822; ${r.address}`,
      'Action: failed',
      `Status: ${r.status}`,
      ...(r.remoteMta ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
      `Diagnostic-Code: smtp; ${r.diagnostic.replace(/[\r\n]+/g, ' ')}`,
    ].join('\r\n'),
  );
  const original = input.originalMessage
    ? ['Content-Type: message/rfc822', '', input.originalMessage.toString('latin1')]
    : ['Content-Type: text/rfc822-headers', '', input.originalHeaders.toString('latin1')];
  const text = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.reportingMta}>`,
    `To: <${input.to}>`,
    'Subject: Undelivered Mail Returned to Sender',
    `Date: ${now.toUTCString().replace('GMT', '+0000')}`,
    `Message-ID: <${randomBytes(12).toString('hex')}@${input.reportingMta}>`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    '',
    `This is the mail system at ${input.reportingMta}.`,
    '',
    'Your message could not be delivered to one or more recipients:',
    '',
    list,
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    perMessage.join('\r\n'),
    '',
    perRecipient.join('\r\n\r\n'),
    '',
    `--${boundary}`,
    ...original,
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(text.join('\r\n'), 'latin1');
}
