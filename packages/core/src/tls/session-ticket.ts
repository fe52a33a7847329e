/**
 * Stateless session tickets (RFC 8446 §4.6.1, §C.4): everything a server needs to resume a
 * session, sealed into the opaque ticket it hands the client, so it keeps no session store. The
 * seam is `SessionTicketer` (seal a state, open a ticket); the default seals with AES-256-GCM
 * under a per-process random key (`TicketKeys`), rotatable, the previous key kept for opening.
 */
import { randomBytes } from 'node:crypto';
import type { Aead, CryptoProvider } from '../crypto/provider.js';
import { Reader, Writer, bytesEqual } from './codec.js';

/** What a ticket carries: the resumption PSK and the facts a resumed handshake is checked against. */
export interface TicketState {
  /** HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length). */
  readonly psk: Uint8Array;
  /** IANA code of the suite the ticket was issued under (its hash must match on resumption). */
  readonly suite: number;
  /** Milliseconds since the epoch, server clock. */
  readonly issuedAt: number;
  readonly ageAdd: number;
  /** Seconds. */
  readonly lifetime: number;
  readonly serverName?: string;
  readonly alpn?: string;
}

/** Seals ticket state into the ticket bytes and opens them again; `open` of anything else: undefined. */
export interface SessionTicketer {
  seal(state: TicketState): Uint8Array;
  open(ticket: Uint8Array): TicketState | undefined;
}

export interface TicketKey {
  /** Names the key inside the ticket, so a rotated-out key still opens its tickets. */
  readonly id: Uint8Array;
  /** 32 bytes: AES-256-GCM. */
  readonly key: Uint8Array;
}

/** The ticket keys: the current one seals, it and the previous one open. */
export class TicketKeys {
  private keys: TicketKey[] = [];
  private rotatedAt = 0;

  /**
   * @param rotateEveryMs rotate on first use after this long (default: only when `rotate()` is
   *   called). A ticket outlives at most two rotations.
   */
  constructor(
    private readonly options: { rotateEveryMs?: number; random?: (n: number) => Uint8Array } = {},
  ) {}

  /** Replace the current key by a fresh random one; the current becomes the previous. */
  rotate(): void {
    const random = this.options.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
    this.keys = [{ id: random(8), key: random(32) }, ...this.keys.slice(0, 1)];
    this.rotatedAt = Date.now();
  }

  get current(): TicketKey {
    const every = this.options.rotateEveryMs;
    if (this.keys.length === 0 || (every !== undefined && Date.now() - this.rotatedAt >= every))
      this.rotate();
    return this.keys[0]!;
  }

  find(id: Uint8Array): TicketKey | undefined {
    return this.keys.find((k) => bytesEqual(k.id, id));
  }
}

let processKeys: TicketKeys | undefined;

/** The keys every server in this process seals with unless given others. */
export function processTicketKeys(): TicketKeys {
  processKeys ??= new TicketKeys();
  return processKeys;
}

const FORMAT = 1;
const ID_LENGTH = 8;
const NONCE_LENGTH = 12;
const TAG_LENGTH = 16;

/** Ticket = format (1) ‖ key id (8) ‖ nonce (12) ‖ AES-256-GCM(state) ‖ tag; AAD = format ‖ key id. */
export class AeadSessionTicketer implements SessionTicketer {
  private readonly aeads = new WeakMap<TicketKey, Aead>();

  constructor(
    private readonly provider: CryptoProvider,
    private readonly keys: TicketKeys = processTicketKeys(),
  ) {}

  seal(state: TicketState): Uint8Array {
    const key = this.keys.current;
    const header = new Writer().u8(FORMAT).raw(key.id).finish();
    const nonce = this.provider.randomBytes(NONCE_LENGTH);
    const sealed = this.aead(key).seal(nonce, header, encodeState(state));
    return new Writer().raw(header).raw(nonce).raw(sealed).finish();
  }

  open(ticket: Uint8Array): TicketState | undefined {
    if (ticket.length < 1 + ID_LENGTH + NONCE_LENGTH + TAG_LENGTH || ticket[0] !== FORMAT) return undefined;
    const key = this.keys.find(ticket.subarray(1, 1 + ID_LENGTH));
    if (!key) return undefined;
    const header = ticket.subarray(0, 1 + ID_LENGTH);
    const nonce = ticket.subarray(header.length, header.length + NONCE_LENGTH);
    const plain = this.aead(key).open(nonce, header, ticket.subarray(header.length + NONCE_LENGTH));
    return plain ? decodeState(plain) : undefined;
  }

  private aead(key: TicketKey): Aead {
    let a = this.aeads.get(key);
    if (!a) {
      a = this.provider.aead('aes-256-gcm', key.key);
      this.aeads.set(key, a);
    }
    return a;
  }
}

const defaultTicketers = new WeakMap<CryptoProvider, AeadSessionTicketer>();

/** The process-wide ticketer for a provider (all of them share `processTicketKeys()`). */
export function defaultTicketer(provider: CryptoProvider): SessionTicketer {
  let t = defaultTicketers.get(provider);
  if (!t) {
    t = new AeadSessionTicketer(provider);
    defaultTicketers.set(provider, t);
  }
  return t;
}

function encodeState(s: TicketState): Uint8Array {
  const text = (v: string | undefined) => Buffer.from(v ?? '', 'latin1');
  return new Writer()
    .u16(s.suite)
    .u32(Math.floor(s.issuedAt / 2 ** 32))
    .u32(s.issuedAt >>> 0)
    .u32(s.ageAdd)
    .u32(s.lifetime)
    .vec(1, s.psk)
    .vec(2, text(s.serverName))
    .vec(1, text(s.alpn))
    .finish();
}

/** Only what `encodeState` wrote under our key gets here; a malformed one is still just "no ticket". */
function decodeState(plain: Uint8Array): TicketState | undefined {
  try {
    const r = new Reader(plain);
    const suite = r.u16();
    const issuedAt = r.u32() * 2 ** 32 + r.u32();
    const ageAdd = r.u32();
    const lifetime = r.u32();
    const psk = r.vec(1, 32, 64, 'psk');
    const name = Buffer.from(r.vec(2, 0, 0xffff, 'server_name')).toString('latin1');
    const alpn = Buffer.from(r.vec(1, 0, 255, 'alpn')).toString('latin1');
    r.end('ticket');
    return {
      psk: Uint8Array.from(psk),
      suite,
      issuedAt,
      ageAdd,
      lifetime,
      serverName: name || undefined,
      alpn: alpn || undefined,
    };
  } catch {
    return undefined;
  }
}
