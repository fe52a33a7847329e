/**
 * @postern/smtp: SMTP server sessions for the MX and submission roles (RFC 5321, 6409, 3207,
 * 4954, 1870, 2920, 3030, 6531, 3461), and the outbound relay (client, worker, DSN).
 */
export { SmtpServer } from './server.js';
export type { SmtpServerOptions, SmtpFaults, CapturedMail, SmtpRole } from './options.js';
export { SmtpError, SmtpReply } from './replies.js';
export { transition, INITIAL_STATE } from './state.js';
export type { SmtpState, SmtpEvent, Transaction, Recipient } from './state.js';
export { parseMailFrom, parseRcptTo, checkAddress } from './envelope.js';
export { measureSmtpIngest } from './bench.js';
export type { SmtpIngestOptions, SmtpIngestResult } from './bench.js';
export * from './relay/index.js';
