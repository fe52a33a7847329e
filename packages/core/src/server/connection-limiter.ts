/**
 * Connection slots for one listener: a global cap and a per-IP cap. A slot is taken when a
 * connection is accepted and given back exactly once, whatever way the connection ends (the
 * guard pattern of Stalwart's concurrency limiter: releasing twice is a no-op, so every exit
 * path may release without counting how the others did).
 */
export interface ConnectionCaps {
  /** Connections served at once on this listener. */
  readonly maxConnections: number;
  /** Connections served at once for one remote address. */
  readonly maxConnectionsPerIp: number;
}

/** Why a connection was refused. */
export type RefusalReason = 'global' | 'per-ip';

export interface ConnectionSlot {
  readonly ip: string;
  /** Give the slot back; only the first call counts. */
  release(): void;
}

export class ConnectionLimiter {
  private total = 0;
  private readonly perIp = new Map<string, number>();

  constructor(private readonly caps: ConnectionCaps) {}

  /** Slots in use. */
  get active(): number {
    return this.total;
  }

  /** Slots in use by one address. */
  activeFor(ip: string): number {
    return this.perIp.get(ip) ?? 0;
  }

  /** Addresses holding at least one slot (the map shrinks back as they leave). */
  get addresses(): number {
    return this.perIp.size;
  }

  /** A slot, or the cap that refuses one. */
  tryAcquire(ip: string): ConnectionSlot | RefusalReason {
    const mine = this.perIp.get(ip) ?? 0;
    if (mine >= this.caps.maxConnectionsPerIp) return 'per-ip';
    if (this.total >= this.caps.maxConnections) return 'global';
    this.perIp.set(ip, mine + 1);
    this.total++;
    let held = true;
    return {
      ip,
      release: () => {
        if (!held) return;
        held = false;
        this.total--;
        const left = (this.perIp.get(ip) ?? 1) - 1;
        if (left <= 0) this.perIp.delete(ip);
        else this.perIp.set(ip, left);
      },
    };
  }
}
