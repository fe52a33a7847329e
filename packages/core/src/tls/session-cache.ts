/**
 * The client's store of TLS 1.3 sessions to resume (RFC 8446 §2.2, §4.6.1): one entry per
 * NewSessionTicket, keyed by server name. Tickets are single-use (RFC 8446 §C.4: reuse lets a
 * passive observer link connections), so `take` removes what it returns.
 */

/** A resumable session: a ticket, its PSK, and the facts of the handshake that earned it. */
export interface ClientSession {
  readonly serverName: string;
  /** The opaque ticket, sent back as the PSK identity. */
  readonly ticket: Uint8Array;
  readonly psk: Uint8Array;
  /** IANA code of the suite it was issued under; a resumption must use one with the same hash. */
  readonly cipherSuite: number;
  readonly ageAdd: number;
  readonly lifetimeSeconds: number;
  /** When the ticket arrived, milliseconds since the epoch (client clock). */
  readonly receivedAt: number;
  readonly alpnProtocol?: string;
  /** The original full handshake's facts, which a resumed session keeps. */
  readonly peerCertificates: readonly Uint8Array[];
  readonly peerVerified: boolean;
  readonly verificationError?: string;
  readonly signatureScheme?: string;
  /**
   * `native` engine: node:tls's own serialized session (`TLSSocket` 'session' event), which it
   * resumes from; the fields above that node does not expose stay empty (`cipherSuite` 0, so
   * the `ts` engine passes such a session over). One cache per engine.
   */
  readonly nativeSession?: Uint8Array;
}

export interface TlsSessionCache {
  put(session: ClientSession): void;
  /** Removes and returns the newest session for `serverName` unexpired at `now` (ms), if any. */
  take(serverName: string, now: number): ClientSession | undefined;
}

export function sessionExpired(session: ClientSession, now: number): boolean {
  return now - session.receivedAt >= session.lifetimeSeconds * 1000 || now < session.receivedAt - 60_000;
}

export interface MemorySessionCacheOptions {
  /** Sessions kept per server name (default 4: servers often send two tickets). */
  maxPerServer?: number;
  /** Server names kept, least recently stored dropped first (default 256). */
  maxServers?: number;
}

/** An in-memory `TlsSessionCache`: share one instance between the connections that may resume. */
export class MemorySessionCache implements TlsSessionCache {
  private readonly byName = new Map<string, ClientSession[]>();
  private readonly maxPerServer: number;
  private readonly maxServers: number;

  constructor(options: MemorySessionCacheOptions = {}) {
    this.maxPerServer = Math.max(1, options.maxPerServer ?? 4);
    this.maxServers = Math.max(1, options.maxServers ?? 256);
  }

  /** Sessions held, all names together. */
  get size(): number {
    let n = 0;
    for (const list of this.byName.values()) n += list.length;
    return n;
  }

  put(session: ClientSession): void {
    const list = this.byName.get(session.serverName) ?? [];
    this.byName.delete(session.serverName);
    list.push(session);
    while (list.length > this.maxPerServer) list.shift();
    this.byName.set(session.serverName, list);
    while (this.byName.size > this.maxServers) this.byName.delete(this.byName.keys().next().value!);
  }

  take(serverName: string, now: number): ClientSession | undefined {
    const list = this.byName.get(serverName);
    if (!list) return undefined;
    const live = list.filter((s) => !sessionExpired(s, now));
    const newest = live.pop();
    if (live.length) this.byName.set(serverName, live);
    else this.byName.delete(serverName);
    return newest;
  }
}
