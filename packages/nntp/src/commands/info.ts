/**
 * Session-level commands of RFC 3977: CAPABILITIES (§5.2), MODE READER (§5.3), QUIT (§5.4),
 * DATE (§7.1) and HELP (§7.2).
 */
import type { CommandHandler } from '../commands.js';
import { syntaxError } from '../replies.js';
import { formatDate } from '../syntax.js';

/** RFC 3977 §5.2.2: an optional keyword is allowed and ignored. */
export const capabilitiesCommand: CommandHandler = async (s, args) => {
  if (args.length > 1) throw syntaxError();
  await s.replyBlock(101, 'Capability list:', s.capabilityList());
};

/**
 * RFC 3977 §5.3: this server is not mode-switching, so MODE READER only reports whether posting
 * is possible (200; 201 would be "never").
 */
export const modeCommand: CommandHandler = async (s, args) => {
  if (args.length !== 1 || args[0].toUpperCase() !== 'READER') throw syntaxError();
  await s.reply(200, 'Reader mode, posting allowed');
};

export const quitCommand: CommandHandler = async (s, args) => {
  if (args.length > 0) throw syntaxError();
  await s.reply(205, 'Connection closing');
  s.apply({ type: 'close' });
};

export const dateCommand: CommandHandler = async (s, args) => {
  if (args.length > 0) throw syntaxError();
  await s.reply(111, formatDate(new Date()));
};

const HELP_TEXT = [
  'ARTICLE [message-id|number]',
  'AUTHINFO USER name | AUTHINFO PASS password | AUTHINFO SASL PLAIN [initial-response]',
  'BODY [message-id|number]',
  'CAPABILITIES [keyword]',
  'DATE',
  'GROUP newsgroup',
  'HDR field [message-id|range]',
  'HEAD [message-id|number]',
  'HELP',
  'IHAVE message-id',
  'LAST',
  'LIST [ACTIVE|ACTIVE.TIMES|NEWSGROUPS [wildmat]] | LIST HEADERS [MSGID|RANGE] | LIST OVERVIEW.FMT',
  'LISTGROUP [newsgroup [range]]',
  'MODE READER',
  'NEWGROUPS [yy]yymmdd hhmmss [GMT]',
  'NEWNEWS wildmat [yy]yymmdd hhmmss [GMT]',
  'NEXT',
  'OVER [message-id|range]',
  'POST',
  'QUIT',
  'STARTTLS',
  'STAT [message-id|number]',
  'XHDR field [message-id|range]',
  'XOVER [range]',
];

export const helpCommand: CommandHandler = async (s, args) => {
  if (args.length > 0) throw syntaxError();
  await s.replyBlock(
    100,
    'Help text follows',
    HELP_TEXT.map((l) => `  ${l}`),
  );
};
