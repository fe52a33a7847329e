/**
 * Assembling one command from the wire: a command line, and for each literal at a line's end
 * (RFC 3501 §4.3; LITERAL+ / LITERAL- non-synchronizing literals, RFC 7888) its octets and
 * the rest of the command on the next line. Literals become NUL placeholders in `text` (NUL
 * is never valid in a command line, RFC 3501 §9 CHAR8), their bytes kept in `literals`.
 */
import { BlockTooLargeError, type LineChannel } from '@postern/core';
import { ImapError } from './errors.js';

export interface RawCommand {
  tag: string;
  /** The command with each literal replaced by '\0'. */
  text: string;
  literals: Buffer[];
}

export interface ReaderLimits {
  maxLineLength: number;
  maxLiteralSize: number;
  /** Literals per command. */
  maxLiterals: number;
  /**
   * Before login: literals are held to LITERAL- bounds (PRE_AUTH_MAX_LITERAL), and one over
   * them is a BAD, so that an unauthenticated client can make the server hold no more than a
   * line's worth of its bytes.
   */
  beforeLogin?: boolean;
}

/**
 * Largest literal total before login: RFC 7888 §4's LITERAL- bound for non-synchronizing
 * literals, applied to synchronizing ones too (a LOGIN or ID needs no more).
 */
export const PRE_AUTH_MAX_LITERAL = 4096;

/** A command refused while being read; `tag` is '*' when none could be read. */
export class CommandReadError extends Error {
  constructor(
    readonly tag: string,
    readonly error: ImapError,
  ) {
    super(error.message);
  }
}

/** literal / literal8 (RFC 3516 §4.4 "~{n}"), with LITERAL+'s "+" (RFC 7888). */
const LITERAL_AT_END = /~?\{(\d{1,20})(\+?)\}$/;
const TAG = /^[\x21-\x7e]+$/;

function tagOf(line: string): string {
  const sp = line.indexOf(' ');
  const tag = sp === -1 ? line : line.slice(0, sp);
  // RFC 3501 §9: tag = 1*<any ASTRING-CHAR except "+">.
  if (!TAG.test(tag) || /[(){%*"\\+\]]/.test(tag)) return '*';
  return tag;
}

/**
 * Read one command. `firstLine` is the line already read. Throws CommandReadError for a
 * refusal the session answers and survives; ImapError with `fatal` for one it must not.
 */
export async function readCommandRest(
  channel: LineChannel,
  firstLine: string,
  limits: ReaderLimits,
): Promise<RawCommand> {
  const tag = tagOf(firstLine);
  if (tag === '*') throw new CommandReadError('*', new ImapError('BAD', 'missing or invalid tag'));
  let line = firstLine;
  let text = '';
  const literals: Buffer[] = [];
  let literalBytes = 0;
  for (;;) {
    if (line.includes('\0')) throw new CommandReadError(tag, new ImapError('BAD', 'NUL in command'));
    const m = LITERAL_AT_END.exec(line);
    text += m ? line.slice(0, m.index) : line;
    if (text.length > limits.maxLineLength) {
      throw new CommandReadError(tag, new ImapError('BAD', 'command too long', 'TOOBIG'));
    }
    if (!m) return { tag, text, literals };
    const size = Number(m[1]);
    const synchronizing = m[2] !== '+';
    literalBytes += size;
    if (literals.length >= limits.maxLiterals || literalBytes > limits.maxLiteralSize) {
      if (limits.beforeLogin) {
        // RFC 7888 §4 (LITERAL-): BAD [TOOBIG]. A synchronizing literal gets no continuation,
        // so no octet of it is sent; for a non-synchronizing one they are already on their way:
        // close rather than read them.
        throw new CommandReadError(
          tag,
          new ImapError('BAD', 'literal too large before login', 'TOOBIG', !synchronizing),
        );
      }
      if (synchronizing) {
        // RFC 7888 §4 / RFC 4469: refuse before the client sends the octets.
        throw new CommandReadError(tag, new ImapError('NO', 'literal too large', 'TOOBIG'));
      }
      // RFC 7888 §4: a non-synchronizing literal that is too large: the octets are already
      // on their way; close rather than read them.
      throw new ImapError('NO', 'literal too large', 'TOOBIG', true);
    }
    // RFC 3501 §7.5: the command continuation request for a synchronizing literal.
    if (synchronizing) await channel.write('+ Ready for literal data\r\n');
    try {
      literals.push(await channel.readExactBuffer(size, limits.maxLiteralSize));
    } catch (err) {
      if (err instanceof BlockTooLargeError) throw new ImapError('NO', 'literal too large', 'TOOBIG', true);
      throw err;
    }
    text += '\0';
    line = await channel.readLine();
  }
}
