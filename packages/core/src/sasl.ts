/**
 * SASL PLAIN (RFC 4616), shared by SMTP AUTH, IMAP AUTHENTICATE, POP3 AUTH and NNTP AUTHINFO SASL.
 */
export interface PlainCredentials {
  authzid: string;
  authcid: string;
  password: string;
}

/** Decode a base64 PLAIN response; undefined when malformed (the caller answers 501/BAD/-ERR). */
export function decodeSaslPlain(base64: string): PlainCredentials | undefined {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  const parts = Buffer.from(text, 'base64').toString('utf8').split('\0');
  if (parts.length !== 3 || parts[1] === '') return undefined;
  return { authzid: parts[0], authcid: parts[1], password: parts[2] };
}

export function decodeBase64Text(base64: string): string | undefined {
  const text = base64.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, 'base64').toString('utf8');
}
