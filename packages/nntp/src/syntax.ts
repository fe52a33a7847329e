/**
 * Argument syntax of RFC 3977 §9.8: message-ids, article numbers and ranges, newsgroup names,
 * and the date and time of NEWGROUPS/NEWNEWS. Pure functions; undefined means "501".
 */

/** RFC 3977 §3.6: "<" 1*248(%x21-3D / %x3F-7E) ">", at most 250 octets. */
const MESSAGE_ID = /^<[\x21-\x3d\x3f-\x7e]{1,248}>$/;

/** The largest article number (RFC 3977 §6: 1 to 2,147,483,647). */
export const MAX_ARTICLE_NUMBER = 2 ** 31 - 1;

export function isMessageId(arg: string): boolean {
  return MESSAGE_ID.test(arg);
}

/**
 * RFC 5536 §3.1.3: the Message-ID of a new article is "<" id-left "@" id-right ">" with no
 * spaces; stricter than a command argument, since it will be cited by every other server.
 */
export function isArticleMessageId(value: string): boolean {
  if (!MESSAGE_ID.test(value)) return false;
  const at = value.lastIndexOf('@');
  return at > 1 && at < value.length - 2;
}

/** RFC 3977 §9.8 article-number: 1*16DIGIT, within 1..2^31-1. */
export function parseArticleNumber(arg: string): number | undefined {
  if (!/^\d{1,16}$/.test(arg)) return undefined;
  const n = Number(arg);
  return n >= 1 && n <= MAX_ARTICLE_NUMBER ? n : undefined;
}

export interface ArticleRange {
  low: number;
  /** Inclusive; MAX_ARTICLE_NUMBER for "n-". */
  high: number;
}

/** RFC 3977 §9.8 range: article-number ["-" [article-number]]. A reversed range is empty. */
export function parseRange(arg: string): ArticleRange | undefined {
  const m = /^(\d{1,16})(-(\d{1,16})?)?$/.exec(arg);
  if (!m) return undefined;
  const low = Number(m[1]);
  if (low > MAX_ARTICLE_NUMBER) return undefined;
  if (!m[2]) return { low, high: low };
  const high = m[3] === undefined ? MAX_ARTICLE_NUMBER : Math.min(Number(m[3]), MAX_ARTICLE_NUMBER);
  return { low, high };
}

/**
 * RFC 5536 §3.1.4 newsgroup-name: dot-separated components of ALPHA, DIGIT, "+", "-", "_".
 * Kept to 200 octets (no sane hierarchy is longer; every client-chosen length has a limit).
 */
export function isNewsgroupName(name: string): boolean {
  return name.length <= 200 && /^[A-Za-z0-9+_-]+(\.[A-Za-z0-9+_-]+)*$/.test(name);
}

/**
 * RFC 3977 §7.3.2 date and time: yyyymmdd or yymmdd, hhmmss, optionally followed by "GMT";
 * without it the time is the server's local time. A two-digit year is in the current century
 * when it is not later than the current year, otherwise in the previous one.
 */
export function parseDateTime(
  date: string,
  time: string,
  zone: string | undefined,
  now = new Date(),
): Date | undefined {
  if (zone !== undefined && zone.toUpperCase() !== 'GMT') return undefined;
  const d = /^(\d{2}|\d{4})(\d{2})(\d{2})$/.exec(date);
  const t = /^(\d{2})(\d{2})(\d{2})$/.exec(time);
  if (!d || !t) return undefined;
  let year = Number(d[1]);
  if (d[1].length === 2) {
    const current = now.getUTCFullYear();
    const century = current - (current % 100);
    year += year <= current % 100 ? century : century - 100;
  }
  const [month, day, hour, minute, second] = [
    Number(d[2]),
    Number(d[3]),
    Number(t[1]),
    Number(t[2]),
    Number(t[3]),
  ];
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return undefined;
  const result =
    zone !== undefined
      ? new Date(Date.UTC(year, month - 1, day, hour, minute, second))
      : new Date(year, month - 1, day, hour, minute, second);
  // Reject 20260231 and the like instead of rolling over.
  const check = zone !== undefined ? result.getUTCDate() : result.getDate();
  return check === day ? result : undefined;
}

/** RFC 3977 §7.1.1 DATE reply: yyyymmddhhmmss in UTC. */
export function formatDate(date: Date): string {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return (
    p(date.getUTCFullYear(), 4) +
    p(date.getUTCMonth() + 1) +
    p(date.getUTCDate()) +
    p(date.getUTCHours()) +
    p(date.getUTCMinutes()) +
    p(date.getUTCSeconds())
  );
}

/** RFC 5322 §3.3 date-time for a Date header, in UTC. */
export function rfc5322Date(date: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const p = (n: number) => String(n).padStart(2, '0');
  return (
    `${days[date.getUTCDay()]}, ${date.getUTCDate()} ${months[date.getUTCMonth()]} ${date.getUTCFullYear()} ` +
    `${p(date.getUTCHours())}:${p(date.getUTCMinutes())}:${p(date.getUTCSeconds())} +0000`
  );
}
