/** Store failures as IMAP refusals (RFC 5530 response codes). */
import { StoreError } from '@postern/store';
import { ImapError, no } from './errors.js';

export function storeRefusal(err: unknown): ImapError | undefined {
  if (err instanceof ImapError) return err;
  if (!(err instanceof StoreError)) return undefined;
  switch (err.code) {
    case 'NOT_FOUND':
      return no('no such mailbox', 'NONEXISTENT');
    case 'EXISTS':
      return no('mailbox already exists', 'ALREADYEXISTS');
    case 'INVALID_NAME':
      return no(err.message || 'invalid name', 'CANNOT');
    case 'LOCKED':
      return no('mailbox in use', 'INUSE');
    case 'UNAVAILABLE':
      return no('temporary failure', 'UNAVAILABLE');
    case 'FULL':
      // RFC 5530 §3: OVERQUOTA, as Dovecot answers a full disk ("Not enough disk space").
      return no('not enough disk space', 'OVERQUOTA');
    default:
      return no('server error', 'SERVERBUG');
  }
}
