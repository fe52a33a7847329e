/**
 * The client's side of resumption (RFC 8446 §2.2): which cached session to offer, the
 * pre_shared_key extension and its binder over the truncated ClientHello (§4.2.11, §4.2.11.2),
 * the checks on the server's choice, and a NewSessionTicket turned into a cached session
 * (§4.6.1). We offer psk_dhe_ke only, one ticket at a time, and never send early data.
 */
import type { CryptoProvider } from '../crypto/provider.js';
import { verifyServerChainSync } from '../certs/verify.js';
import { misbehaved } from './failures.js';
import { ExtensionType, MAX_TICKET_LIFETIME_SECONDS, suiteByCode, type CipherSuite } from './constants.js';
import type { HandshakeFacts } from './handshake-common.js';
import { KeySchedule } from './key-schedule.js';
import { decodeNewSessionTicket, findExtension, type Extension } from './messages.js';
import { binderTranscriptHash, bindersLength, decodeSelectedIdentity, encodeOfferedPsks } from './psk.js';
import type { ClientSession, TlsSessionCache } from './session-cache.js';

/** What of the client configuration resumption looks at. */
export interface ResumptionConfig {
  readonly sessionCache?: TlsSessionCache;
  readonly serverName?: string;
  readonly ca?: string | readonly string[];
  readonly rejectUnauthorized: boolean;
}

/** A session we offer, and the suite whose hash its binder uses. */
export interface PskOffered {
  readonly session: ClientSession;
  readonly suite: CipherSuite;
}

/**
 * The session to offer, taken from the cache (it is single-use either way). Passed over: one
 * for a hash none of our suites has, and, when verification is required, one whose certificate
 * chain no longer verifies for this name and these trust anchors (a resumed handshake sends no
 * certificate, so the original chain must still hold).
 */
export function takeSession(
  config: ResumptionConfig,
  suites: readonly CipherSuite[],
  now: Date,
): PskOffered | undefined {
  if (!config.sessionCache || !config.serverName) return undefined;
  const session = config.sessionCache.take(config.serverName, now.getTime());
  const issued = session && suiteByCode(session.cipherSuite);
  if (!session || !issued || !suites.some((s) => s.hash === issued.hash)) return undefined;
  if (config.rejectUnauthorized) {
    if (!session.peerVerified || session.peerCertificates.length === 0) return undefined;
    const verdict = verifyServerChainSync([...session.peerCertificates], {
      ca: config.ca,
      serverName: config.serverName,
      now,
    });
    if (!verdict.ok) return undefined;
  }
  return { session, suite: issued };
}

/**
 * pre_shared_key (RFC 8446 §4.2.11) for one ticket: the obfuscated age, and a zero binder of the
 * right length that `fillBinder` replaces once the ClientHello is encoded.
 */
export function pskExtension(offer: PskOffered, provider: CryptoProvider, now: number): Extension {
  const age = Math.max(0, now - offer.session.receivedAt);
  const identity = {
    identity: offer.session.ticket,
    obfuscatedTicketAge: (age + offer.session.ageAdd) % 2 ** 32,
  };
  const binder = new Uint8Array(provider.hashLength(offer.suite.hash));
  return { type: ExtensionType.pre_shared_key, data: encodeOfferedPsks([identity], [binder]) };
}

/**
 * RFC 8446 §4.2.11.2: the binder over the encoded ClientHello truncated before its binders
 * (after `before`: message_hash(ClientHello1) and the HelloRetryRequest), written into its last
 * bytes. The lengths in the truncated part are those of the whole message, as required.
 */
export function fillBinder(
  hello: Uint8Array,
  provider: CryptoProvider,
  offer: PskOffered,
  before: readonly Uint8Array[],
): void {
  const schedule = new KeySchedule(provider, offer.suite);
  const length = schedule.hashLength;
  const hash = binderTranscriptHash(provider, offer.suite.hash, before, hello, bindersLength(1, length));
  hello.set(schedule.binder(offer.session.psk, hash), hello.length - length);
}

/**
 * The server's pre_shared_key in its ServerHello (RFC 8446 §4.2.11): the identity we offered
 * (the only one, index 0) and a suite with its hash; anything else is illegal_parameter.
 * Returns the resumed session, or undefined for a full handshake.
 */
export function acceptedSession(
  extensions: readonly Extension[],
  offered: PskOffered | undefined,
  suite: CipherSuite,
): ClientSession | undefined {
  const ext = findExtension(extensions, ExtensionType.pre_shared_key);
  if (!ext) return undefined;
  if (!offered) throw misbehaved('selectedNotOffered', 'server selected a PSK we did not offer');
  if (decodeSelectedIdentity(ext) !== 0)
    throw misbehaved('selectedNotOffered', 'server selected a PSK identity out of range');
  if (suite.hash !== offered.suite.hash)
    throw misbehaved('selectedNotOffered', "server selected a suite whose hash is not the PSK's");
  return offered.session;
}

export interface TicketContext {
  readonly schedule: KeySchedule;
  readonly resumptionMasterSecret: Uint8Array;
  readonly serverName: string;
  readonly facts: Omit<HandshakeFacts, 'group' | 'serverName'>;
  readonly now: number;
}

/**
 * A NewSessionTicket (RFC 8446 §4.6.1) as a session to cache: PSK = HKDF-Expand-Label(
 * resumption_master_secret, "resumption", ticket_nonce, Hash.length). Lifetime zero: discard; a
 * lifetime past the seven days servers may grant is cut to seven days. Extensions (early_data
 * among them: we never send 0-RTT) are ignored, as unknown ones must be.
 */
export function sessionFromTicket(body: Uint8Array, ctx: TicketContext): ClientSession | undefined {
  const nst = decodeNewSessionTicket(body);
  if (nst.lifetime === 0) return undefined;
  return {
    serverName: ctx.serverName,
    ticket: Uint8Array.from(nst.ticket),
    psk: ctx.schedule.resumptionPsk(ctx.resumptionMasterSecret, nst.nonce),
    cipherSuite: ctx.facts.cipherSuite.code,
    ageAdd: nst.ageAdd,
    lifetimeSeconds: Math.min(nst.lifetime, MAX_TICKET_LIFETIME_SECONDS),
    receivedAt: ctx.now,
    alpnProtocol: ctx.facts.alpnProtocol,
    peerCertificates: ctx.facts.peerCertificates,
    peerVerified: ctx.facts.peerVerified,
    verificationError: ctx.facts.verificationError,
    signatureScheme: ctx.facts.signatureScheme,
  };
}
