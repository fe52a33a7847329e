/**
 * MAIL FROM / RCPT TO arguments: the path (RFC 5321 §4.1.2) and ESMTP parameters
 * (SIZE RFC 1870, BODY RFC 6152, SMTPUTF8 RFC 6531, RET/ENVID/NOTIFY/ORCPT RFC 3461).
 */
import { SmtpError } from './replies.js';

export interface MailParams {
  size?: number;
  body?: '7BIT' | '8BITMIME';
  smtputf8: boolean;
  ret?: 'FULL' | 'HDRS';
  envid?: string;
}

export interface RcptParams {
  notify?: string[];
  orcpt?: string;
}

const LOCAL_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
const QUOTED = /^"([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const DOMAIN =
  /^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$/;
const ADDRESS_LITERAL = /^\[(IPv6:[0-9A-Fa-f:.]+|\d{1,3}(\.\d{1,3}){3})\]$/;
// RFC 6531 §3.3: UTF-8 in local parts and domains once SMTPUTF8 is in force.
const UTF8_LOCAL = /^[^\s"<>()[\]\\,;:@\x00-\x1f\x7f]+$/u;
const UTF8_DOMAIN = /^[^\s"<>()[\]\\,;:@\x00-\x1f\x7f]+$/u;

const ARGS = { FROM: /^FROM:\s*(<[^>]*>|\S+)\s*(.*)$/i, TO: /^TO:\s*(<[^>]*>|\S+)\s*(.*)$/i };

/** Splits `FROM:<a@b> SIZE=10` into the path and its parameters. */
function splitArgs(
  args: string,
  keyword: 'FROM' | 'TO',
): { path: string; params: Map<string, string | true> } {
  const m = ARGS[keyword].exec(args);
  if (!m)
    throw new SmtpError(
      501,
      '5.5.4',
      `Syntax: ${keyword === 'FROM' ? 'MAIL FROM:<address>' : 'RCPT TO:<address>'}`,
    );
  const raw = m[1]!;
  if (!raw.startsWith('<') || !raw.endsWith('>'))
    throw new SmtpError(501, '5.1.7', 'Address must be in angle brackets');
  const params = new Map<string, string | true>();
  // Nearly every MAIL and RCPT has no parameters: nothing to split.
  if (m[2] === '') return { path: raw.slice(1, -1), params };
  for (const p of m[2]!.split(/\s+/).filter(Boolean)) {
    const eq = p.indexOf('=');
    const key = (eq === -1 ? p : p.slice(0, eq)).toUpperCase();
    if (params.has(key)) throw new SmtpError(501, '5.5.4', `Duplicate parameter ${key}`);
    params.set(key, eq === -1 ? true : p.slice(eq + 1));
  }
  return { path: raw.slice(1, -1), params };
}

/** Validates an address; '' only where the null path is allowed. Returns it without a source route. */
export function checkAddress(path: string, utf8: boolean, allowNull: boolean): string {
  // RFC 5321 §4.1.2: a source route (@a,@b:) is accepted and ignored.
  const address = path.charCodeAt(0) === 0x40 ? path.replace(/^(@[^,:]+,)*@[^,:]+:/, '') : path;
  if (address === '') {
    if (allowNull) return '';
    throw new SmtpError(501, '5.1.3', 'Empty address');
  }
  if (address.length > 254) throw new SmtpError(501, '5.1.3', 'Address too long');
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1)
    throw new SmtpError(501, '5.1.3', `Bad address syntax: <${address}>`);
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  const ascii = /^[\x00-\x7f]*$/.test(address);
  if (!ascii && !utf8) throw new SmtpError(553, '5.6.7', 'Non-ASCII address needs SMTPUTF8');
  const localOk = LOCAL_ATOM.test(local) || QUOTED.test(local) || (!ascii && UTF8_LOCAL.test(local));
  const domainOk =
    DOMAIN.test(domain) || ADDRESS_LITERAL.test(domain) || (!ascii && UTF8_DOMAIN.test(domain));
  if (!localOk || !domainOk || local.length > 64)
    throw new SmtpError(501, '5.1.3', `Bad address syntax: <${address}>`);
  return address;
}

/** RFC 3461 §4: xtext, `+XX` hex escapes. */
function decodeXtext(s: string): string {
  if (!/^([\x21-\x2a\x2c-\x3c\x3e-\x7e]|\+[0-9A-F]{2})*$/.test(s))
    throw new SmtpError(501, '5.5.4', 'Bad xtext');
  return s.replace(/\+([0-9A-F]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

export function parseMailFrom(args: string, maxSize: number): { from: string; params: MailParams } {
  const { path, params } = splitArgs(args, 'FROM');
  const out: MailParams = { smtputf8: false };
  for (const [key, value] of params) {
    switch (key) {
      case 'SIZE':
        if (value === true || !/^\d{1,20}$/.test(value))
          throw new SmtpError(501, '5.5.4', 'SIZE needs a number');
        out.size = Number(value);
        if (out.size > maxSize)
          throw new SmtpError(552, '5.3.4', `Message size exceeds the limit of ${maxSize} octets`);
        break;
      case 'BODY': {
        const v = value === true ? '' : value.toUpperCase();
        if (v !== '7BIT' && v !== '8BITMIME') throw new SmtpError(555, '5.5.4', `BODY=${v} not supported`);
        out.body = v;
        break;
      }
      case 'SMTPUTF8':
        if (value !== true) throw new SmtpError(501, '5.5.4', 'SMTPUTF8 takes no value');
        out.smtputf8 = true;
        break;
      case 'RET': {
        const v = value === true ? '' : value.toUpperCase();
        if (v !== 'FULL' && v !== 'HDRS') throw new SmtpError(501, '5.5.4', 'RET must be FULL or HDRS');
        out.ret = v;
        break;
      }
      case 'ENVID':
        if (value === true || value.length > 100) throw new SmtpError(501, '5.5.4', 'Bad ENVID');
        out.envid = decodeXtext(value);
        break;
      case 'AUTH':
        // RFC 4954 §5: accepted and not relied upon.
        break;
      default:
        throw new SmtpError(555, '5.5.4', `Unsupported parameter ${key}`);
    }
  }
  return { from: checkAddress(path, out.smtputf8, true), params: out };
}

export function parseRcptTo(args: string, utf8: boolean): { to: string; params: RcptParams } {
  const { path, params } = splitArgs(args, 'TO');
  const out: RcptParams = {};
  for (const [key, value] of params) {
    if (key === 'NOTIFY') {
      if (value === true) throw new SmtpError(501, '5.5.4', 'NOTIFY needs a value');
      const list = value.toUpperCase().split(',');
      const ok =
        list.every((v) => ['SUCCESS', 'FAILURE', 'DELAY'].includes(v)) ||
        (list.length === 1 && list[0] === 'NEVER');
      if (!ok) throw new SmtpError(501, '5.5.4', 'Bad NOTIFY');
      out.notify = list;
    } else if (key === 'ORCPT') {
      if (value === true || !/^[A-Za-z0-9-]+;/.test(value)) throw new SmtpError(501, '5.5.4', 'Bad ORCPT');
      out.orcpt = decodeXtext(value.slice(value.indexOf(';') + 1)) && value;
    } else throw new SmtpError(555, '5.5.4', `Unsupported parameter ${key}`);
  }
  // RFC 5321 §4.1.1.3: postmaster without a domain must be accepted.
  if (/^postmaster$/i.test(path)) return { to: 'postmaster', params: out };
  return { to: checkAddress(path, utf8, false), params: out };
}
