/**
 * OVER (RFC 3977 §8.3) and its ancestor XOVER (RFC 2980 §2.8), HDR (RFC 3977 §8.5) and XHDR
 * (RFC 2980 §2.6). Answered from the overview the store computed at delivery, never by
 * re-reading articles; headers outside the overview come from the stored header index.
 */
import type { Overview } from '@postern/store';
import type { CommandHandler } from '../commands.js';
import { NntpError, syntaxError } from '../replies.js';
import type { NntpSession } from '../session.js';
import { isMessageId } from '../syntax.js';
import { articleByMessageId, rangeOrCurrent, readableGroup } from './resolve.js';

/** RFC 3977 §8.4.2: the overview fields in order, with the metadata items :bytes and :lines. */
export const OVERVIEW_FORMAT = [
  'Subject:',
  'From:',
  'Date:',
  'Message-ID:',
  'References:',
  ':bytes',
  ':lines',
];

/** Ranges are read from the store in slices of this many article numbers. */
const SLICE = 1000;

/**
 * RFC 3977 §8.3.1: TAB, CR and LF in a field become spaces; so does NUL, which no line of a
 * multi-line block may carry (§3.1.1), should a stored header hold one.
 */
function clean(value: string): string {
  return value.replace(/[\t\r\n\0]+/g, ' ');
}

function overviewLine(number: number, o: Overview): string {
  return [number, o.subject, o.from, o.date, o.messageId, o.references, o.bytes, o.lines]
    .map((v) => clean(String(v)))
    .join('\t');
}

/**
 * Stream "status + lines" for a range of one group: the status line is only written once an
 * article is found, so that an empty range can still be answered 423 (RFC 3977 §8.3.2).
 */
async function streamRange<T>(
  s: NntpSession,
  low: number,
  high: number,
  fetch: (from: number, to: number) => Promise<T[]>,
  render: (item: T) => string,
  status: string,
): Promise<void> {
  let started = false;
  for (let from = low; from <= high; from += SLICE) {
    const items = await fetch(from, Math.min(high, from + SLICE - 1));
    if (items.length === 0) continue;
    let text = '';
    for (const item of items) {
      const line = render(item);
      text += (line.startsWith('.') ? '.' : '') + line + '\r\n';
    }
    await s.write((started ? '' : status) + text);
    started = true;
  }
  if (!started) throw new NntpError(423, 'No articles in that range');
  await s.write('.\r\n');
}

function overCommandFor(legacy: boolean): CommandHandler {
  return async (s, args) => {
    if (args.length > 1) throw syntaxError();
    s.requireReader();
    const status = '224 Overview information follows\r\n';
    if (args[0]?.startsWith('<')) {
      // RFC 3977 §8.3.2: by message-id (the OVER MSGID capability), article number 0.
      if (legacy || !isMessageId(args[0])) throw syntaxError('Invalid range');
      const article = await articleByMessageId(s, args[0]);
      const index = await s.news.getIndex(article.messageId);
      if (!index) throw new NntpError(430, 'No article with that message-id');
      await s.replyBlock(224, 'Overview information follows', [overviewLine(0, index.overview)]);
      return;
    }
    const { group, range } = rangeOrCurrent(s, args[0]);
    const info = await readableGroup(s, group);
    await streamRange(
      s,
      Math.max(range.low, info.low),
      Math.min(range.high, info.high),
      (from, to) => s.news.overview(group, from, to),
      (item) => overviewLine(item.number, item.overview),
      status,
    );
  };
}

export const overCommand = overCommandFor(false);
export const xoverCommand = overCommandFor(true);

/** Overview fields answer HDR without touching the header index. */
function fromOverview(field: string, o: Overview): string | undefined {
  switch (field) {
    case 'subject':
      return o.subject;
    case 'from':
      return o.from;
    case 'date':
      return o.date;
    case 'message-id':
      return o.messageId;
    case 'references':
      return o.references;
    case ':bytes':
      return String(o.bytes);
    case ':lines':
      return String(o.lines);
    default:
      return undefined;
  }
}

async function headerValue(s: NntpSession, messageId: string, field: string): Promise<string> {
  const index = await s.news.getIndex(messageId);
  if (!index) return '';
  const known = fromOverview(field, index.overview);
  if (known !== undefined) return known;
  const hit = index.headers.find(([name]) => name.toLowerCase() === field);
  return hit ? hit[1] : '';
}

function hdrCommandFor(legacy: boolean): CommandHandler {
  return async (s, args) => {
    if (args.length < 1 || args.length > 2) throw syntaxError();
    const field = args[0].toLowerCase();
    if (!/^(:bytes|:lines|[\x21-\x39\x3b-\x7e]+)$/.test(field)) throw syntaxError('Invalid field name');
    s.requireReader();
    // RFC 2980 §2.6 answers XHDR with 221, RFC 3977 §8.5.2 answers HDR with 225.
    const code = legacy ? 221 : 225;
    const text = `Headers follow`;
    const missing = legacy ? '(none)' : '';
    const show = (v: string) => clean(v) || missing;
    if (args[1]?.startsWith('<')) {
      if (!isMessageId(args[1])) throw syntaxError('Invalid message-id');
      const article = await articleByMessageId(s, args[1]);
      const value = show(await headerValue(s, article.messageId, field));
      // XHDR names the article by its message-id; HDR by the number 0.
      await s.replyBlock(code, text, [`${legacy ? article.messageId : 0} ${value}`]);
      return;
    }
    const { group, range } = rangeOrCurrent(s, args[1]);
    const info = await readableGroup(s, group);
    const overviewOnly =
      fromOverview(field, {
        subject: '',
        from: '',
        date: '',
        messageId: '',
        references: '',
        bytes: 0,
        lines: 0,
      }) !== undefined;
    await streamRange(
      s,
      Math.max(range.low, info.low),
      Math.min(range.high, info.high),
      async (from, to) => {
        const rows = await s.news.overview(group, from, to);
        if (overviewOnly)
          return rows.map((r) => ({ number: r.number, value: fromOverview(field, r.overview) ?? '' }));
        const out: Array<{ number: number; value: string }> = [];
        for (const r of rows)
          out.push({ number: r.number, value: await headerValue(s, r.overview.messageId, field) });
        return out;
      },
      (item) => `${item.number} ${show(item.value)}`,
      `${code} ${text}\r\n`,
    );
  };
}

export const hdrCommand = hdrCommandFor(false);
export const xhdrCommand = hdrCommandFor(true);
