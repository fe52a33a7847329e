/** The command table: name → handler (handlers live one concern per file). */
import type { Reader } from '../parser.js';
import type { ImapSession } from '../session.js';
import { ANY_STATE } from './any-state.js';
import { AUTH_COMMANDS } from './auth.js';
import { MAILBOX_COMMANDS } from './mailbox.js';
import { LIST_COMMANDS } from './list.js';
import { APPEND_COMMANDS } from './append.js';
import { MESSAGE_COMMANDS } from './message.js';
import { FETCH_COMMANDS } from './fetch.js';
import { IDLE_COMMANDS } from './idle.js';

export interface CommandContext {
  tag: string;
  /** Upper-case command name (without the UID prefix). */
  name: string;
  /** A UID command (RFC 3501 §6.4.8). */
  uid: boolean;
  session: ImapSession;
}

/** Returns the text of the tagged OK (response code included), or undefined for "<NAME> completed". */
export type Handler = (ctx: CommandContext, r: Reader) => Promise<string | undefined>;

export const COMMANDS: Record<string, Handler> = {
  ...ANY_STATE,
  ...AUTH_COMMANDS,
  ...MAILBOX_COMMANDS,
  ...LIST_COMMANDS,
  ...APPEND_COMMANDS,
  ...MESSAGE_COMMANDS,
  ...FETCH_COMMANDS,
  ...IDLE_COMMANDS,
};
