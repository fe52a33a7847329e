/**
 * The CAPABILITIES list (RFC 3977 §5.2) for the session's current state. STARTTLS (RFC 4642
 * §2.1) disappears once TLS is up or a user is authenticated; AUTHINFO and SASL (RFC 4643
 * §2.1) appear only where authentication is allowed, and disappear after it succeeded.
 */
export interface CapabilityInput {
  secure: boolean;
  authenticated: boolean;
  authAllowed: boolean;
  implementation?: string;
}

export const LIST_VARIANTS = ['ACTIVE', 'ACTIVE.TIMES', 'HEADERS', 'NEWSGROUPS', 'OVERVIEW.FMT'] as const;

export function capabilities(input: CapabilityInput): string[] {
  const caps = ['VERSION 2'];
  if (input.implementation) caps.push(`IMPLEMENTATION ${input.implementation}`);
  // A reader server that needs no MODE READER (RFC 3977 §3.4.1), so no MODE-READER label.
  caps.push('READER', 'POST', 'IHAVE', 'NEWNEWS', 'HDR', 'OVER MSGID', `LIST ${LIST_VARIANTS.join(' ')}`);
  if (!input.secure && !input.authenticated) caps.push('STARTTLS');
  if (!input.authenticated && input.authAllowed) caps.push('AUTHINFO USER SASL', 'SASL PLAIN');
  return caps;
}
