/** Store failures as IMAP refusals (RFC 5530 response codes). */
import { StoreError, type MailStore } from '@postern/store';
import { ImapError, no } from './errors.js';

/**
 * What the failed store call was about. The store answers NOT_FOUND for a missing mailbox and
 * for a missing message alike; only the caller knows which it asked for.
 */
export type StoreSubject = 'mailbox' | 'message';

export function storeRefusal(err: unknown, subject: StoreSubject = 'mailbox'): ImapError | undefined {
  if (err instanceof ImapError) return err;
  if (!(err instanceof StoreError)) return undefined;
  switch (err.code) {
    case 'NOT_FOUND':
      return subject === 'message' ? expungeIssued() : noSuchMailbox();
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

function noSuchMailbox(): ImapError {
  return no('no such mailbox', 'NONEXISTENT');
}

/**
 * A message another session expunged, which this session still numbers (RFC 3501 §7.4.1: the
 * EXPUNGE waits until a command allows it): RFC 2180 §4.1.2's answer, the data of the other
 * messages and a tagged NO, with RFC 5530 §3's EXPUNGEISSUED telling the client to NOOP soon.
 */
export function expungeIssued(): ImapError {
  return no('some of the requested messages no longer exist', 'EXPUNGEISSUED');
}

export function isNotFound(err: unknown): boolean {
  return err instanceof StoreError && err.code === 'NOT_FOUND';
}

/**
 * The refusal once messages of the selected mailbox could not be read: expunged messages if
 * the mailbox is still there, the mailbox itself if another session deleted it.
 */
export async function messagesGone(store: MailStore, user: string, mailbox: string): Promise<ImapError> {
  return (await store.getMailbox(user, mailbox)) ? expungeIssued() : noSuchMailbox();
}
