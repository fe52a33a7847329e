/**
 * The server's side of resumption (RFC 8446 §2.2): reading the client's PSK offer
 * (§4.2.9, §4.2.11), choosing a ticket we can open and still honour, checking its binder
 * (§4.2.11.2), and the NewSessionTickets sent after the client Finished (§4.6.1). Any ticket we
 * cannot open, or that is expired, too skewed in age, for another suite hash or another server
 * name, is passed over in silence: the handshake goes on in full.
 */
import type { CryptoProvider, HashName } from '../crypto/provider.js';
import { misbehaved } from './failures.js';
import { Reader, bytesEqual } from './codec.js';
import {
  CIPHER_SUITES,
  ExtensionType,
  MAX_TICKET_LIFETIME_SECONDS,
  PskMode,
  suiteByCode,
  type CipherSuite,
} from './constants.js';
import type { ExtensionHook } from './handshake-common.js';
import type { KeySchedule } from './key-schedule.js';
import { chooseSuite } from './negotiation.js';
import { encodeNewSessionTicket, findExtension, u16Bytes, type ClientHello } from './messages.js';
import { binderTranscriptHash, decodeOfferedPsks, decodePskModes, type OfferedPsks } from './psk.js';
import { defaultTicketer, type SessionTicketer, type TicketState } from './session-ticket.js';

export interface SessionTicketConfig {
  /** NewSessionTickets sent after each handshake (default 1; 0 sends none but still resumes). */
  count?: number;
  /** Seconds a ticket may be used (default 7200; at most 604800, RFC 8446 §4.6.1). */
  lifetimeSeconds?: number;
  /** Seals and opens tickets (default: AES-256-GCM under the per-process `processTicketKeys()`). */
  ticketer?: SessionTicketer;
}

export const DEFAULT_TICKET_LIFETIME_SECONDS = 7200;

/**
 * How far the client's idea of the ticket's age (RFC 8446 §4.2.11.1) may stray from ours. We
 * never accept 0-RTT, so this is a sanity check, not replay protection; OpenSSL clients count
 * whole seconds and round down.
 */
export const TICKET_AGE_TOLERANCE_MS = 10_000;

/** The client's PSK offer, checked for form. */
export interface PskOffer {
  readonly psks?: OfferedPsks;
  /** psk_dhe_ke offered: the only mode we resume with, and the condition for issuing tickets. */
  readonly dhe: boolean;
}

export function readPskOffer(ch: ClientHello): PskOffer {
  const pskExt = findExtension(ch.extensions, ExtensionType.pre_shared_key);
  // RFC 8446 §4.2.11: the last extension, since the binders cover everything before them.
  if (pskExt && ch.extensions[ch.extensions.length - 1]!.type !== ExtensionType.pre_shared_key)
    throw misbehaved('pskNotLast', 'pre_shared_key is not the last extension');
  const modesExt = findExtension(ch.extensions, ExtensionType.psk_key_exchange_modes);
  const dhe = modesExt ? decodePskModes(modesExt).includes(PskMode.psk_dhe_ke) : false;
  if (!pskExt) return { dhe };
  // RFC 8446 §4.2.9.
  if (!modesExt) throw misbehaved('missingExtension', 'pre_shared_key without psk_key_exchange_modes');
  return { psks: decodeOfferedPsks(pskExt), dhe };
}

/** A ticket we opened and will resume with, once its binder verifies. */
export interface TicketCandidate {
  readonly index: number;
  readonly state: TicketState;
  readonly hash: HashName;
}

export interface TicketContext {
  readonly ticketer: SessionTicketer;
  readonly now: number;
  readonly serverName: string | undefined;
  readonly clientSuites: readonly number[];
  /** After a HelloRetryRequest the suite, and so the hash, is settled. */
  readonly hash?: HashName;
}

export function findTicket(offer: PskOffer, ctx: TicketContext): TicketCandidate | undefined {
  // psk_ke alone would give up forward secrecy: a full handshake instead (RFC 8446 §4.2.9).
  if (!offer.psks || !offer.dhe) return undefined;
  for (const [index, id] of offer.psks.identities.entries()) {
    const state = ctx.ticketer.open(id.identity);
    const suite = state && suiteByCode(state.suite);
    if (!state || !suite) continue;
    if (
      ctx.hash ? suite.hash !== ctx.hash : !ctx.clientSuites.some((c) => suiteByCode(c)?.hash === suite.hash)
    )
      continue;
    const age = ctx.now - state.issuedAt;
    const lifetime = Math.min(state.lifetime, MAX_TICKET_LIFETIME_SECONDS) * 1000;
    if (age < -TICKET_AGE_TOLERANCE_MS || age > lifetime) continue;
    const clientAge = (id.obfuscatedTicketAge - state.ageAdd) >>> 0;
    if (Math.abs(clientAge - age) > TICKET_AGE_TOLERANCE_MS) continue;
    if (state.serverName !== ctx.serverName) continue;
    return { index, state, hash: suite.hash };
  }
  return undefined;
}

/**
 * The ticket to resume with, if any, and the suite: the one we would choose anyway if it has
 * the ticket's hash, else our first of the client's suites with that hash (RFC 8446 §4.2.11);
 * after a HelloRetryRequest the one it settled. Tickets `false`: none.
 */
export function chooseTicketAndSuite(
  config: false | SessionTicketConfig | undefined,
  provider: CryptoProvider,
  offer: PskOffer,
  ctx: Omit<TicketContext, 'ticketer' | 'hash'> & { settled?: CipherSuite },
): { ticket?: TicketCandidate; suite?: CipherSuite } {
  const ticketer = config === false ? undefined : (config?.ticketer ?? defaultTicketer(provider));
  const ticket = ticketer ? findTicket(offer, { ...ctx, ticketer, hash: ctx.settled?.hash }) : undefined;
  if (ctx.settled) return { ticket, suite: ctx.settled };
  const preferred = chooseSuite(ctx.clientSuites);
  if (!ticket || preferred?.hash === ticket.hash) return { ticket, suite: preferred };
  // Our order among the client's suites with the ticket's hash (there is one: findTicket checked).
  return {
    ticket,
    suite: CIPHER_SUITES.find((s) => s.hash === ticket.hash && ctx.clientSuites.includes(s.code)),
  };
}

/**
 * RFC 8446 §4.2.11.2: the binder over the truncated ClientHello (after a HelloRetryRequest,
 * preceded by message_hash(ClientHello1) and the HelloRetryRequest), compared in constant time.
 */
export function verifyBinder(
  schedule: KeySchedule,
  candidate: TicketCandidate,
  offer: OfferedPsks,
  before: readonly Uint8Array[],
  helloRaw: Uint8Array,
): void {
  const hash = binderTranscriptHash(
    schedule.provider,
    schedule.suite.hash,
    before,
    helloRaw,
    offer.bindersLength,
  );
  const expected = schedule.binder(candidate.state.psk, hash);
  if (!bytesEqual(expected, offer.binders[candidate.index]!))
    throw misbehaved('binderMismatch', 'PSK binder does not verify');
}

export interface TicketIssue {
  readonly provider: CryptoProvider;
  readonly schedule: KeySchedule;
  readonly resumptionMasterSecret: Uint8Array;
  readonly suite: CipherSuite;
  readonly serverName?: string;
  readonly alpn?: string;
  readonly now: number;
  readonly random: (n: number) => Uint8Array;
  readonly config: SessionTicketConfig;
  readonly hook?: ExtensionHook;
}

/** The NewSessionTicket messages to send (RFC 8446 §4.6.1): nonce = the ticket's index, two bytes. */
export function newSessionTickets(t: TicketIssue): Uint8Array[] {
  const count = t.config.count ?? 1;
  const lifetime = Math.min(
    t.config.lifetimeSeconds ?? DEFAULT_TICKET_LIFETIME_SECONDS,
    MAX_TICKET_LIFETIME_SECONDS,
  );
  const ticketer = t.config.ticketer ?? defaultTicketer(t.provider);
  const out: Uint8Array[] = [];
  for (let i = 0; i < count && i < 0x10000; i++) {
    const nonce = u16Bytes(i);
    const ageAdd = new Reader(t.random(4)).u32();
    const state: TicketState = {
      psk: t.schedule.resumptionPsk(t.resumptionMasterSecret, nonce),
      suite: t.suite.code,
      issuedAt: t.now,
      ageAdd,
      lifetime,
      serverName: t.serverName,
      alpn: t.alpn,
    };
    const extensions = t.hook ? t.hook('NewSessionTicket', []) : [];
    out.push(encodeNewSessionTicket({ lifetime, ageAdd, nonce, ticket: ticketer.seal(state), extensions }));
  }
  return out;
}
