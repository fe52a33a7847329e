/**
 * @postern/nntp: an NNTP reader and transit server (RFC 3977) with STARTTLS (RFC 4642),
 * AUTHINFO USER/PASS and SASL PLAIN (RFC 4643), implicit TLS, and the mail <-> news gateway.
 */
export { NntpServer } from './server.js';
export type { NntpServerOptions, AnonymousReadPolicy } from './options.js';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_ARTICLE_SIZE,
  DEFAULT_MAX_AUTH_FAILURES,
  DEFAULT_MAX_CROSS_POSTS,
  DEFAULT_MAX_ERRORS,
  DEFAULT_MAX_LINE_LENGTH,
} from './options.js';
export { NntpError } from './replies.js';
export { transition, INITIAL_STATE, InvalidTransitionError } from './state.js';
export type { NntpState, NntpEvent, AuthState } from './state.js';
export { compileWildmat } from './wildmat.js';
export { ArticleRejectedError, prepareArticle } from './article/prepare.js';
export type { PrepareOptions, PreparedArticle } from './article/prepare.js';
export { mailToNews, gatewayMailToNews } from './gateway/mail-to-news.js';
export type { MailToNewsOptions, MailToNewsResult, MailToNewsStatus } from './gateway/mail-to-news.js';
export { newsToMail } from './gateway/news-to-mail.js';
export type { NewsToMailOptions, NewsToMailResult } from './gateway/news-to-mail.js';
export { GATEWAY_HEADER } from './gateway/marks.js';
