/**
 * Command-line parsing (RFC 1939 §3, RFC 2449 §3): a case-insensitive keyword, then arguments
 * separated by spaces. PASS keeps its whole argument, spaces included (RFC 1939 §7).
 */
import { Pop3Error } from './replies.js';
import { isCommand, type Pop3Command } from './state.js';

export interface ParsedCommand {
  /** Upper-case keyword as sent (may be unknown). */
  readonly keyword: string;
  /** The known command, when the keyword is one. */
  readonly command: Pop3Command | undefined;
  /** Space-separated arguments. */
  readonly args: readonly string[];
  /** Everything after the first space, unsplit (PASS). */
  readonly rest: string;
}

/** RFC 2449 §4: each argument up to 40 octets in RFC 1939, 255 octets overall per command. */
export const MAX_ARGUMENT_LENGTH = 255;

export function parseCommand(line: string): ParsedCommand {
  const space = line.indexOf(' ');
  const keyword = (space === -1 ? line : line.slice(0, space)).toUpperCase();
  const rest = space === -1 ? '' : line.slice(space + 1);
  const args = rest.split(' ').filter((a) => a !== '');
  return { keyword, command: isCommand(keyword) ? keyword : undefined, args, rest };
}

/**
 * Argument count and length check. `maxLength` defaults to RFC 2449 §4's 255 octets; AUTH lifts
 * it for the initial response (RFC 5034 §4: a server must take the largest response its
 * mechanisms produce), which the line length limit still bounds.
 */
export function expectArgs(
  cmd: ParsedCommand,
  min: number,
  max: number,
  usage: string,
  maxLength = MAX_ARGUMENT_LENGTH,
): void {
  if (cmd.args.length < min || cmd.args.length > max) throw new Pop3Error(`syntax: ${usage}`);
  for (const a of cmd.args) if (a.length > maxLength) throw new Pop3Error('argument too long');
}

const DECIMAL = /^[0-9]{1,15}$/;

/** A message-number (RFC 1939 §5): a positive decimal, never larger than the maildrop. */
export function parseMessageNumber(arg: string): number {
  if (!DECIMAL.test(arg)) throw new Pop3Error(`invalid message number`);
  const n = Number(arg);
  if (n < 1) throw new Pop3Error(`invalid message number`);
  return n;
}

/** TOP's line count (RFC 1939 §7): a non-negative decimal. */
export function parseLineCount(arg: string): number {
  if (!DECIMAL.test(arg)) throw new Pop3Error(`invalid line count`);
  return Number(arg);
}
