/**
 * Command lines (RFC 3977 §3.1): a case-insensitive keyword and arguments separated by one or
 * more spaces or tabs, at most 512 octets in the RFC (the session's limit is an option).
 */
import type { NntpSession } from './session.js';

export interface ParsedCommand {
  /** Upper case. */
  keyword: string;
  args: string[];
}

/** undefined for a blank line. */
export function parseCommand(line: string): ParsedCommand | undefined {
  const words = line.split(/[ \t]+/).filter((w) => w !== '');
  if (words.length === 0) return undefined;
  return { keyword: words[0].toUpperCase(), args: words.slice(1) };
}

/**
 * A command handler writes its whole reply, or throws an NntpError whose line the session
 * writes. Handlers change the session only through `session.apply()`.
 */
export type CommandHandler = (session: NntpSession, args: string[], line: string) => Promise<void>;

export type CommandTable = ReadonlyMap<string, CommandHandler>;
