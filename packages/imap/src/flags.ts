/**
 * Message flags on the wire (RFC 3501 §2.3.2): the system flags in their canonical spelling,
 * and the lines that tell a client which flags a mailbox uses (§7.2.6 FLAGS, §7.1 PERMANENTFLAGS).
 */

/** The system flags a client may set (\Recent is the server's own: RFC 3501 §2.3.2). */
export const SYSTEM_FLAGS = ['\\Answered', '\\Flagged', '\\Deleted', '\\Seen', '\\Draft'] as const;

/** Flags are case-insensitive: `\seen` becomes `\Seen`, so it is stored, counted and shown as one flag. */
export function canonicalFlag(flag: string): string {
  const lower = flag.toLowerCase();
  return SYSTEM_FLAGS.find((f) => f.toLowerCase() === lower) ?? flag;
}

/** A keyword (flag-keyword = atom, RFC 3501 §9) rather than a system or extension flag. */
export function isKeyword(flag: string): boolean {
  return !flag.startsWith('\\');
}

/**
 * `* FLAGS` and `* OK [PERMANENTFLAGS]` for a mailbox whose messages use `keywords`
 * (RFC 3501 §7.2.6, §6.3.1): every keyword in use is listed, and `\*` says new ones may be
 * created; a read-only mailbox permits nothing.
 */
export function flagsLines(keywords: Iterable<string>, readOnly: boolean): string[] {
  const all = [...SYSTEM_FLAGS, ...keywords].join(' ');
  return [
    `* FLAGS (${all})\r\n`,
    `* OK [PERMANENTFLAGS (${readOnly ? '' : `${all} \\*`})] flags permitted\r\n`,
  ];
}
