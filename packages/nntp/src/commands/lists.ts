/**
 * Group lists: LIST (RFC 3977 §7.6 and the variants of §7.6.3–§7.6.6, §8.4, §8.6), NEWGROUPS
 * (§7.3) and NEWNEWS (§7.4). Anonymous readers see only the groups they may read.
 */
import type { GroupInfo } from '@postern/store';
import type { CommandHandler } from '../commands.js';
import { syntaxError } from '../replies.js';
import type { NntpSession } from '../session.js';
import { parseDateTime } from '../syntax.js';
import { compileWildmat } from '../wildmat.js';
import { OVERVIEW_FORMAT } from './overview.js';

/** "name high low status" (RFC 3977 §7.6.3); empty groups shown with high = low - 1. */
function activeLine(g: GroupInfo): string {
  const empty = g.count === 0 || g.high < g.low;
  return empty
    ? `${g.name} ${g.high} ${g.high + 1} ${g.posting}`
    : `${g.name} ${g.high} ${g.low} ${g.posting}`;
}

/** Tabs and line breaks cannot appear inside one line of a list. */
function oneLine(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}

async function visibleGroups(s: NntpSession, wildmat: string | undefined): Promise<GroupInfo[]> {
  let match: ((name: string) => boolean) | undefined;
  if (wildmat !== undefined) {
    match = compileWildmat(wildmat);
    if (!match) throw syntaxError('Invalid wildmat');
  }
  s.requireReader();
  const groups = await s.news.listGroups();
  return groups
    .filter((g) => s.canRead(g.name) && (!match || match(g.name)))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export const listCommand: CommandHandler = async (s, args) => {
  const keyword = (args[0] ?? 'ACTIVE').toUpperCase();
  switch (keyword) {
    case 'ACTIVE':
    case 'ACTIVE.TIMES':
    case 'NEWSGROUPS': {
      if (args.length > 2) throw syntaxError();
      const groups = await visibleGroups(s, args[1]);
      if (keyword === 'ACTIVE') {
        await s.replyBlock(215, 'List of newsgroups follows', groups.map(activeLine));
      } else if (keyword === 'ACTIVE.TIMES') {
        // RFC 3977 §7.6.4: "name time creator", time in seconds since the epoch.
        const lines = groups.map(
          (g) => `${g.name} ${Math.floor(g.createdAt.getTime() / 1000)} ${s.options.hostname}`,
        );
        await s.replyBlock(215, 'Group creation times follow', lines);
      } else {
        await s.replyBlock(
          215,
          'Descriptions follow',
          groups.map((g) => `${g.name}\t${oneLine(g.description)}`),
        );
      }
      return;
    }
    case 'OVERVIEW.FMT':
      if (args.length > 1) throw syntaxError();
      await s.replyBlock(215, 'Order of fields in overview database', OVERVIEW_FORMAT);
      return;
    case 'HEADERS': {
      // RFC 3977 §8.6: ":" = any header field may be asked for, by message-id or by range.
      if (args.length > 2) throw syntaxError();
      const variant = args[1]?.toUpperCase();
      if (variant !== undefined && variant !== 'MSGID' && variant !== 'RANGE') throw syntaxError();
      await s.replyBlock(215, 'Headers and metadata items supported', [':', ':bytes', ':lines']);
      return;
    }
    default:
      throw syntaxError('Unknown LIST keyword');
  }
};

function dateArgs(date: string | undefined, time: string | undefined, zone: string | undefined): Date {
  if (date === undefined || time === undefined) throw syntaxError();
  const when = parseDateTime(date, time, zone);
  if (!when) throw syntaxError('Invalid date or time');
  return when;
}

export const newgroupsCommand: CommandHandler = async (s, args) => {
  if (args.length < 2 || args.length > 3) throw syntaxError();
  const since = dateArgs(args[0], args[1], args[2]);
  const groups = (await visibleGroups(s, undefined)).filter((g) => g.createdAt.getTime() >= since.getTime());
  await s.replyBlock(231, 'List of new newsgroups follows', groups.map(activeLine));
};

export const newnewsCommand: CommandHandler = async (s, args) => {
  if (args.length < 3 || args.length > 4) throw syntaxError();
  const match = compileWildmat(args[0]);
  if (!match) throw syntaxError('Invalid wildmat');
  const since = dateArgs(args[1], args[2], args[3]);
  s.requireReader();
  const ids = await s.news.articlesSince(since, (group) => match(group) && s.canRead(group));
  await s.replyBlock(230, 'List of new articles follows', ids);
};
