/** Settings of an SMTP listener, with the defaults a small site would pick. */
import {
  AuthThrottle,
  resolveConnectionLimits,
  silentLogger,
  type CommonServerOptions,
  type Logger,
} from '@postern/core';
import type { Store } from '@postern/store';

/** Mail for a non-local domain, kept in capture mode instead of being relayed. */
export interface CapturedMail {
  envelope: { from: string; to: string[] };
  message: Buffer;
}

/** Fault injection for testing clients' error paths (one listener's worth). */
export interface SmtpFaults {
  /**
   * Answer `command` (MAIL, RCPT, DATA, BDAT, EHLO, …) with this reply instead of processing it;
   * the pseudo-commands GREETING (instead of the 220; 554 then waits for QUIT, anything else
   * closes) and END-OF-DATA (instead of the reply after the message, which is dropped).
   */
  replies?: Array<{ command: string; code: number; enhanced?: string; text: string }>;
  /** Answer STARTTLS with 454 4.7.0 (it is still advertised). */
  refuseStartTls?: boolean;
  /** Say 220 to STARTTLS, then break the handshake. */
  failHandshake?: boolean;
  /** Delay every reply by this long. */
  delayMs?: number;
  /** Drop the connection once this many octets were received. */
  dropAfterBytes?: number;
}

export type SmtpRole = 'mx' | 'submission';

export interface SmtpServerOptions extends CommonServerOptions {
  store: Store;
  role: SmtpRole;
  /** Non-local recipients of authenticated mail: the relay queue, or `capture`. */
  relay?: 'queue' | 'capture';
  capture?: (mail: CapturedMail) => Promise<void>;
  faults?: SmtpFaults;
  /**
   * Mail for a newsgroup's address (mail-to-news gateway). Returns true when it was posted.
   * Without it, group addresses are unknown users.
   */
  deliverToGroup?: (group: string, message: Buffer) => Promise<boolean>;
  /** RFC 1870 SIZE, octets (default 50 MiB). */
  maxMessageSize?: number;
  /** RFC 5321 §4.5.3.1.8 asks for at least 100 (the default). */
  maxRecipients?: number;
  /** Command line, CRLF excluded; RFC 5321 §4.5.3.1.4 says 512, we allow up to this (default 1000). */
  maxLineLength?: number;
  /** Bad commands before 421 and disconnect (default 10). */
  maxErrors?: number;
  /** RFC 5321 §4.5.3.2.7: at least 5 minutes (the default). */
  idleTimeoutMs?: number;
  /** Connections at once from one address (default 20). */
  maxConnectionsPerIp?: number;
  /** Submission: MAIL FROM must be one of the user's addresses (default true). */
  checkSenderOwnership?: boolean;
  authThrottle?: AuthThrottle;
}

export interface ResolvedSmtpOptions extends Required<
  Omit<SmtpServerOptions, 'capture' | 'faults' | 'deliverToGroup' | 'logger'>
> {
  capture?: SmtpServerOptions['capture'];
  faults: SmtpFaults;
  deliverToGroup?: SmtpServerOptions['deliverToGroup'];
  logger: Logger;
}

export function resolveOptions(o: SmtpServerOptions): ResolvedSmtpOptions {
  return {
    ...o,
    relay: o.relay ?? 'queue',
    allowInsecureAuth: o.allowInsecureAuth ?? false,
    maxMessageSize: o.maxMessageSize ?? 50 * 1024 * 1024,
    maxRecipients: o.maxRecipients ?? 100,
    maxLineLength: o.maxLineLength ?? 1000,
    maxErrors: o.maxErrors ?? 10,
    idleTimeoutMs: o.idleTimeoutMs ?? 5 * 60_000,
    checkSenderOwnership: o.checkSenderOwnership ?? true,
    authThrottle: o.authThrottle ?? new AuthThrottle(),
    faults: o.faults ?? {},
    logger: (o.logger ?? silentLogger).child({ proto: 'smtp', role: o.role }),
    // Submission needs a login; MX mail comes from strangers, bounded by the command deadline
    // and the idle timeout instead.
    ...resolveConnectionLimits(o, { maxConnectionsPerIp: 20, preAuth: o.role === 'submission' }),
  };
}
