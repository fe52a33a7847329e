/**
 * CAPA (RFC 2449 §5): what this server offers, which depends on the state and on TLS.
 */
import type { Pop3Phase } from './state.js';

export interface CapabilityContext {
  readonly phase: Pop3Phase;
  /** TLS is active (STLS done or implicit TLS). */
  readonly secure: boolean;
  /** Authentication may be attempted now: under TLS, or allowInsecureAuth. */
  readonly authAllowed: boolean;
  readonly implementation?: string;
}

/** SASL mechanisms offered (RFC 5034 §4); PLAIN only, so only ever under TLS by default. */
export const SASL_MECHANISMS = ['PLAIN'] as const;

export function capabilities(ctx: CapabilityContext): string[] {
  const caps = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
  if (ctx.phase === 'AUTHORIZATION') {
    // RFC 2595 §4: STLS only before TLS and before login.
    if (!ctx.secure) caps.push('STLS');
    // RFC 2449 §6.2, §6.3 and RFC 2595 §2.2: no plaintext login offered without TLS.
    if (ctx.authAllowed) caps.push('USER', `SASL ${SASL_MECHANISMS.join(' ')}`);
  }
  if (ctx.implementation) caps.push(`IMPLEMENTATION ${ctx.implementation}`);
  return caps;
}
