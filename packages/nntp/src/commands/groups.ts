/**
 * Group and article selection: GROUP (RFC 3977 §6.1.1), LISTGROUP (§6.1.2), LAST (§6.1.3)
 * and NEXT (§6.1.4).
 */
import type { GroupInfo } from '@postern/store';
import type { CommandHandler } from '../commands.js';
import { NntpError, syntaxError } from '../replies.js';
import type { NntpSession } from '../session.js';
import { isNewsgroupName, MAX_ARTICLE_NUMBER, parseRange } from '../syntax.js';
import { noCurrentArticle, readableGroup } from './resolve.js';

/** Article numbers are listed in slices of this many, so a huge group is never one array. */
const SLICE = 10_000;

/**
 * "count low high name" (RFC 3977 §6.1.1.2). An empty group is shown as count 0 with the high
 * water mark one below the low one, the first of the three forms the RFC allows.
 */
function groupSummary(info: GroupInfo): string {
  if (info.count === 0 || info.high < info.low) return `0 ${info.high + 1} ${info.high} ${info.name}`;
  return `${info.count} ${info.low} ${info.high} ${info.name}`;
}

async function selectGroup(s: NntpSession, name: string): Promise<GroupInfo> {
  if (!isNewsgroupName(name)) throw new NntpError(411, 'No such newsgroup');
  s.requireReader();
  const info = await readableGroup(s, name);
  const empty = info.count === 0 || info.high < info.low;
  let first: number | null = null;
  if (!empty) {
    // The low water mark may name an article already gone; take the first one present.
    const present = await s.news.numbers(name, info.low, Math.min(info.high, info.low + SLICE - 1));
    first = present[0] ?? info.low;
  }
  s.apply({ type: 'select-group', group: name, article: first });
  return info;
}

export const groupCommand: CommandHandler = async (s, args) => {
  if (args.length !== 1) throw syntaxError();
  const info = await selectGroup(s, args[0]);
  await s.reply(211, groupSummary(info));
};

export const listgroupCommand: CommandHandler = async (s, args) => {
  if (args.length > 2) throw syntaxError();
  // RFC 3977 §6.1.2.2: the group (given, or the selected one) becomes the selected group and
  // its first article the current one, as with GROUP.
  if (args.length === 0) s.requireReader();
  const info = await selectGroup(s, args.length === 0 ? s.selectedGroup() : args[0]);
  let low = info.low;
  let high = info.high;
  if (args.length === 2) {
    const range = parseRange(args[1]);
    if (!range) throw syntaxError('Invalid range');
    low = Math.max(low, range.low);
    high = Math.min(high, range.high);
  }
  await s.write(`211 ${groupSummary(info)} list follows\r\n`);
  for (let from = low; from <= high && from <= MAX_ARTICLE_NUMBER; from += SLICE) {
    const numbers = await s.news.numbers(info.name, from, Math.min(high, from + SLICE - 1));
    if (numbers.length > 0) await s.write(numbers.join('\r\n') + '\r\n');
  }
  await s.write('.\r\n');
};

/** LAST and NEXT: move the current article pointer (never across groups). */
async function step(s: NntpSession, direction: 'next' | 'last'): Promise<void> {
  s.requireReader();
  const group = s.selectedGroup();
  const current = s.state.article;
  if (current === null) throw noCurrentArticle();
  const info = await readableGroup(s, group);
  let target: number | undefined;
  if (direction === 'next') {
    for (let from = current + 1; from <= info.high && target === undefined; from += SLICE) {
      target = (await s.news.numbers(group, from, Math.min(info.high, from + SLICE - 1)))[0];
    }
  } else {
    for (let to = current - 1; to >= info.low && target === undefined; to -= SLICE) {
      const found = await s.news.numbers(group, Math.max(info.low, to - SLICE + 1), to);
      target = found[found.length - 1];
    }
  }
  if (target === undefined) {
    throw direction === 'next'
      ? new NntpError(421, 'No next article in this group')
      : new NntpError(422, 'No previous article in this group');
  }
  const ref = await s.news.articleByNumber(group, target);
  if (!ref) throw noCurrentArticle();
  s.apply({ type: 'select-article', article: target });
  await s.reply(223, `${target} ${ref.messageId} retrieved`);
}

export const nextCommand: CommandHandler = async (s, args) => {
  if (args.length > 0) throw syntaxError();
  await step(s, 'next');
};

export const lastCommand: CommandHandler = async (s, args) => {
  if (args.length > 0) throw syntaxError();
  await step(s, 'last');
};
