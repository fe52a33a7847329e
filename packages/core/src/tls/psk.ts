/**
 * The PSK extensions both sides read and write (RFC 8446 §4.2.9 psk_key_exchange_modes,
 * §4.2.11 pre_shared_key) and the transcript a binder covers (§4.2.11.2): the ClientHello
 * truncated before its binders, preceded after a HelloRetryRequest by message_hash(ClientHello1)
 * and the HelloRetryRequest.
 */
import type { CryptoProvider, HashName } from '../crypto/provider.js';
import { decodeError, misbehaved } from './failures.js';
import { Reader, Writer } from './codec.js';

export interface PskIdentity {
  readonly identity: Uint8Array;
  /** RFC 8446 §4.2.11.1: the ticket's age in ms plus ticket_age_add, modulo 2^32. */
  readonly obfuscatedTicketAge: number;
}

export interface OfferedPsks {
  readonly identities: readonly PskIdentity[];
  readonly binders: readonly Uint8Array[];
  /** Octets of the binders field (its length prefix included): what truncation removes. */
  readonly bindersLength: number;
}

export function decodePskModes(data: Uint8Array): number[] {
  const r = new Reader(data);
  const modes = r.vec(1, 1, 0xff, 'psk_key_exchange_modes');
  r.end('psk_key_exchange_modes');
  return [...modes];
}

export function encodePskModes(modes: readonly number[]): Uint8Array {
  return new Writer().vec(1, Uint8Array.from(modes)).finish();
}

/** ClientHello pre_shared_key: OfferedPsks (RFC 8446 §4.2.11). */
export function decodeOfferedPsks(data: Uint8Array): OfferedPsks {
  const r = new Reader(data);
  const ids = r.sub(2, 7, 0xffff, 'identities');
  const identities: PskIdentity[] = [];
  while (!ids.atEnd) {
    const identity = ids.vec(2, 1, 0xffff, 'identity');
    identities.push({ identity, obfuscatedTicketAge: ids.u32() });
  }
  const bindersStart = r.remaining;
  const list = r.sub(2, 33, 0xffff, 'binders');
  r.end('pre_shared_key');
  const binders: Uint8Array[] = [];
  while (!list.atEnd) binders.push(list.vec(1, 32, 255, 'PskBinderEntry'));
  if (binders.length !== identities.length)
    throw misbehaved(
      'pskBinderCountMismatch',
      `${identities.length} PSK identities but ${binders.length} binders`,
    );
  return { identities, binders, bindersLength: bindersStart };
}

export function encodeOfferedPsks(
  identities: readonly PskIdentity[],
  binders: readonly Uint8Array[],
): Uint8Array {
  const ids = new Writer();
  for (const id of identities) ids.vec(2, id.identity).u32(id.obfuscatedTicketAge);
  const list = new Writer();
  for (const b of binders) list.vec(1, b);
  return new Writer().vec(2, ids).vec(2, list).finish();
}

/** ServerHello pre_shared_key: the selected identity's index. */
export function decodeSelectedIdentity(data: Uint8Array): number {
  const r = new Reader(data);
  const v = r.u16();
  if (!r.atEnd) throw decodeError('pre_shared_key: trailing bytes');
  return v;
}

/** The binders field of a ClientHello whose last extension is pre_shared_key, one binder of `hashLength`. */
export function bindersLength(count: number, hashLength: number): number {
  return 2 + count * (1 + hashLength);
}

/** Hash of the transcript a binder covers: any messages before (after HelloRetryRequest), then the truncated ClientHello. */
export function binderTranscriptHash(
  provider: CryptoProvider,
  hash: HashName,
  before: readonly Uint8Array[],
  helloRaw: Uint8Array,
  binders: number,
): Uint8Array {
  const h = provider.createHash(hash);
  for (const m of before) h.update(m);
  h.update(helloRaw.subarray(0, helloRaw.length - binders));
  return h.digest();
}
