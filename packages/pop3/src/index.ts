/**
 * @postern/pop3: a POP3 server (RFC 1939) with CAPA (RFC 2449), STLS (RFC 2595), SASL PLAIN
 * (RFC 5034), response codes (RFC 2449 §8, RFC 3206) and implicit TLS (RFC 8314).
 */
export { Pop3Server } from './server.js';
export type { Pop3ServerOptions } from './options.js';
export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_AUTH_FAILURES,
  DEFAULT_MAX_ERRORS,
  DEFAULT_MAX_LINE_LENGTH,
} from './options.js';
export { Pop3Error } from './replies.js';
export type { Pop3ResponseCode } from './replies.js';
export { transition, allowedIn, COMMAND_PHASES, InvalidTransitionError } from './state.js';
export type { Pop3Phase, Pop3State, Pop3Event, Pop3Command } from './state.js';
export { TopLimiter } from './message-output.js';
