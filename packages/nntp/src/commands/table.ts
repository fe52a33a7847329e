/**
 * Every command this server knows, by keyword (RFC 3977 §3.1: keywords are case-insensitive;
 * the session upper-cases them). Anything else is answered 500.
 */
import type { CommandHandler, CommandTable } from '../commands.js';
import { articleCommand, bodyCommand, headCommand, statCommand } from './articles.js';
import { groupCommand, lastCommand, listgroupCommand, nextCommand } from './groups.js';
import { capabilitiesCommand, dateCommand, helpCommand, modeCommand, quitCommand } from './info.js';
import { listCommand, newgroupsCommand, newnewsCommand } from './lists.js';
import { hdrCommand, overCommand, xhdrCommand, xoverCommand } from './overview.js';
import { ihaveCommand, postCommand } from './posting.js';
import { authinfoCommand, starttlsCommand } from './security.js';

export function commandTable(): CommandTable {
  return new Map<string, CommandHandler>([
    ['ARTICLE', articleCommand],
    ['AUTHINFO', authinfoCommand],
    ['BODY', bodyCommand],
    ['CAPABILITIES', capabilitiesCommand],
    ['DATE', dateCommand],
    ['GROUP', groupCommand],
    ['HDR', hdrCommand],
    ['HEAD', headCommand],
    ['HELP', helpCommand],
    ['IHAVE', ihaveCommand],
    ['LAST', lastCommand],
    ['LIST', listCommand],
    ['LISTGROUP', listgroupCommand],
    ['MODE', modeCommand],
    ['NEWGROUPS', newgroupsCommand],
    ['NEWNEWS', newnewsCommand],
    ['NEXT', nextCommand],
    ['OVER', overCommand],
    ['POST', postCommand],
    ['QUIT', quitCommand],
    ['STARTTLS', starttlsCommand],
    ['STAT', statCommand],
    ['XHDR', xhdrCommand],
    ['XOVER', xoverCommand],
  ]);
}
