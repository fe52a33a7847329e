/**
 * Credentials never reach the log (DESIGN.md, security stance): a URL's userinfo password —
 * `redis://user:secret@host` — is shown as `redis://user:***@host`, and a userinfo without a
 * colon (`redis://secret@host`, a bare token) as `redis://***@host`. The logger applies this to
 * every string it writes, so a URL logged anywhere, under any field name, is covered.
 */

// RFC 3986 §3.1 scheme, then `//`, then userinfo (§3.2.1: no '/', '?', '#', '@' or space) up to '@'.
const URL_USERINFO = /([a-z][a-z0-9+.-]*:\/\/)([^\s/?#@]*)@/gi;

/** `text` with the password (or the bare token) of every URL's userinfo replaced by `***`. */
export function redactUrlCredentials(text: string): string {
  if (!text.includes('@')) return text;
  return text.replace(URL_USERINFO, (_all, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon < 0 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/** A log record's fields with every string redacted (objects and arrays walked, to a depth). */
export function redactFields<T>(value: T, depth = 0): T {
  if (typeof value === 'string') return redactUrlCredentials(value) as T;
  if (depth > 8 || value === null || typeof value !== 'object') return value;
  if (value instanceof Error) {
    // A copy of the same class (pino's err serializer names its type), its own fields redacted.
    const copy = Object.create(Object.getPrototypeOf(value) as object) as Record<string, unknown>;
    for (const k of Object.getOwnPropertyNames(value))
      copy[k] = redactFields((value as unknown as Record<string, unknown>)[k], depth + 1);
    return copy as T;
  }
  if (Array.isArray(value)) return value.map((v) => redactFields(v, depth + 1)) as T;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(value)) out[k] = redactFields(v, depth + 1);
  return out as T;
}
