/**
 * What one IMAP command is: its name, the states it is valid in (RFC 3501 §6), whether it has a
 * UID form (RFC 3501 §6.4.8 and the extensions that add one), whether EXPUNGE responses may be
 * sent before its tagged reply (RFC 3501 §7.4.1), how its arguments are parsed into a value and
 * how that value is executed. Each command lives in its own file under commands/ and exports
 * one `CommandSpec`; `table.ts` lists them all, keyed by a compiler-checked name union.
 *
 * Parsing reads the whole argument list (BAD on bad syntax) and makes no store call; execution
 * gets the parsed value. A store failure is mapped to its reply once, by the session.
 */
import type { Reader } from '../parser.js';
import type { ImapSession } from '../session.js';
import type { StateKind } from '../state.js';

export interface CommandContext {
  tag: string;
  /** Upper-case command name (without the UID prefix). */
  name: string;
  /** A UID command (RFC 3501 §6.4.8). */
  uid: boolean;
  session: ImapSession;
}

/** The session as the parser may see it: settings that change how arguments read (UTF8=ACCEPT). */
export interface ParseContext {
  readonly uid: boolean;
  readonly session: ImapSession;
}

export interface CommandSpec<Args> {
  /** The states the command is valid in; BAD elsewhere. */
  readonly states: readonly StateKind[];
  /** Has a `UID <name>` form. */
  readonly uidForm: boolean;
  /**
   * EXPUNGE responses may be sent before the tagged reply. RFC 3501 §7.4.1 forbids them during
   * FETCH, STORE and SEARCH; their UID forms allow them (UIDs do not shift).
   */
  readonly expungeAllowed: boolean;
  /** Reads the arguments after the command name (the leading SP included) and the end of line. */
  parse(r: Reader, ctx: ParseContext): Args;
  /** The text of the tagged OK (response code included), or undefined for "<NAME> completed". */
  run(ctx: CommandContext, args: Args): Promise<string | undefined>;
}

/** Identity, for inference of `Args` from `parse`. */
export function command<Args>(spec: CommandSpec<Args>): CommandSpec<Args> {
  return spec;
}

export const ANY: readonly StateKind[] = ['NotAuthenticated', 'Authenticated', 'Selected'];
export const NOT_AUTHENTICATED: readonly StateKind[] = ['NotAuthenticated'];
export const AUTHENTICATED: readonly StateKind[] = ['Authenticated', 'Selected'];
export const SELECTED: readonly StateKind[] = ['Selected'];
