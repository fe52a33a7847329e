/**
 * Where mail for a domain goes: the smarthost when one is configured, else the domain's MX
 * hosts by preference, else the domain itself (RFC 5321 §5.1: the implicit MX).
 */
import { promises as dns } from 'node:dns';

export interface Smarthost {
  host: string;
  port: number;
  auth?: { user: string; password: string };
}

export interface RelayTarget {
  host: string;
  port: number;
}

/** `host:port` (port defaults to 587 for a smarthost). */
export function parseSmarthost(spec: string, auth?: string): Smarthost {
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(spec.trim());
  if (!m) throw new Error(`--relay-host ${spec}: expected host:port`);
  const port = m[2] ? Number(m[2]) : 587;
  if (!(port > 0 && port < 65536)) throw new Error(`--relay-host ${spec}: ${m[2]} is not a port`);
  let parsedAuth: Smarthost['auth'];
  if (auth !== undefined) {
    const i = auth.indexOf(':');
    if (i <= 0) throw new Error('--relay-auth: expected user:password');
    parsedAuth = { user: auth.slice(0, i), password: auth.slice(i + 1) };
  }
  return { host: m[1]!.replace(/^\[|\]$/g, ''), port, auth: parsedAuth };
}

export type MxResolver = (domain: string) => Promise<Array<{ exchange: string; priority: number }>>;

export async function resolveTargets(
  domain: string,
  resolveMx: MxResolver = dns.resolveMx,
  port = 25,
): Promise<RelayTarget[]> {
  let records: Array<{ exchange: string; priority: number }> = [];
  try {
    records = await resolveMx(domain);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    // No MX records: fall back to the address records (the implicit MX). Other errors are
    // temporary and surface as a retry.
    if (code !== 'ENODATA' && code !== 'ENOTFOUND') throw err;
    if (code === 'ENOTFOUND')
      throw Object.assign(new Error(`domain ${domain} does not exist`), { permanent: true });
  }
  // RFC 7505: a single "." MX means the domain accepts no mail.
  if (records.length === 1 && (records[0]!.exchange === '' || records[0]!.exchange === '.')) {
    throw Object.assign(new Error(`domain ${domain} accepts no mail (null MX)`), { permanent: true });
  }
  if (records.length === 0) return [{ host: domain, port }];
  return [...records].sort((a, b) => a.priority - b.priority).map((r) => ({ host: r.exchange, port }));
}
