/**
 * TLS 1.3 key schedule (RFC 8446 §7.1): HKDF-Expand-Label, Derive-Secret, the Early Secret from
 * a resumption PSK or zeros, PSK binders (§4.2.11.2), the traffic secrets, Finished keys
 * (§4.4.4), the resumption master secret and ticket PSKs (§4.6.1), KeyUpdate (§7.2), traffic
 * keys (§7.3) and the exporter (§7.5).
 */
import type { CryptoProvider } from '../crypto/provider.js';
import type { CipherSuite } from './constants.js';
import { Writer } from './codec.js';

const EMPTY = new Uint8Array(0);
const LABEL_PREFIX = 'tls13 ';

export interface TrafficKeys {
  readonly key: Uint8Array;
  readonly iv: Uint8Array;
}

export class KeySchedule {
  readonly hashLength: number;
  private readonly zeros: Uint8Array;
  private handshakeSecret: Uint8Array = EMPTY;
  private masterSecret: Uint8Array = EMPTY;

  constructor(
    readonly provider: CryptoProvider,
    readonly suite: CipherSuite,
  ) {
    this.hashLength = provider.hashLength(suite.hash);
    this.zeros = new Uint8Array(this.hashLength);
  }

  /** HKDF-Expand-Label (RFC 8446 §7.1). */
  expandLabel(secret: Uint8Array, label: string, context: Uint8Array, length: number): Uint8Array {
    const info = new Writer()
      .u16(length)
      .vec(1, Buffer.from(LABEL_PREFIX + label, 'latin1'))
      .vec(1, context)
      .finish();
    return this.provider.hkdfExpand(this.suite.hash, secret, info, length);
  }

  /** Derive-Secret with the transcript hash already computed. */
  deriveSecret(secret: Uint8Array, label: string, transcriptHash: Uint8Array): Uint8Array {
    return this.expandLabel(secret, label, transcriptHash, this.hashLength);
  }

  hash(data: Uint8Array): Uint8Array {
    return this.provider.hash(this.suite.hash, data);
  }

  /** Early Secret = HKDF-Extract(0, PSK), with a string of zeros when there is no PSK. */
  earlySecret(psk: Uint8Array | undefined): Uint8Array {
    return this.provider.hkdfExtract(this.suite.hash, EMPTY, psk ?? this.zeros);
  }

  /**
   * RFC 8446 §4.2.11.2: a resumption PSK's binder, computed as a Finished over the transcript
   * up to the truncated ClientHello, with binder_key = Derive-Secret(Early Secret, "res binder", "").
   */
  binder(psk: Uint8Array, truncatedHelloHash: Uint8Array): Uint8Array {
    const binderKey = this.deriveSecret(this.earlySecret(psk), 'res binder', this.hash(EMPTY));
    return this.finishedVerifyData(binderKey, truncatedHelloHash);
  }

  /** Early Secret (PSK or none) → Handshake Secret; returns the two handshake traffic secrets. */
  handshakeTrafficSecrets(
    sharedSecret: Uint8Array,
    helloHash: Uint8Array,
    psk?: Uint8Array,
  ): { client: Uint8Array; server: Uint8Array } {
    const early = this.earlySecret(psk);
    const derived = this.deriveSecret(early, 'derived', this.hash(EMPTY));
    this.handshakeSecret = this.provider.hkdfExtract(this.suite.hash, derived, sharedSecret);
    return {
      client: this.deriveSecret(this.handshakeSecret, 'c hs traffic', helloHash),
      server: this.deriveSecret(this.handshakeSecret, 's hs traffic', helloHash),
    };
  }

  /** Master Secret → application traffic secrets and exporter secret (transcript up to server Finished). */
  applicationTrafficSecrets(serverFinishedHash: Uint8Array): {
    client: Uint8Array;
    server: Uint8Array;
    exporter: Uint8Array;
  } {
    const derived = this.deriveSecret(this.handshakeSecret, 'derived', this.hash(EMPTY));
    this.masterSecret = this.provider.hkdfExtract(this.suite.hash, derived, this.zeros);
    return {
      client: this.deriveSecret(this.masterSecret, 'c ap traffic', serverFinishedHash),
      server: this.deriveSecret(this.masterSecret, 's ap traffic', serverFinishedHash),
      exporter: this.deriveSecret(this.masterSecret, 'exp master', serverFinishedHash),
    };
  }

  /** resumption_master_secret (transcript up to the client Finished); call after applicationTrafficSecrets. */
  resumptionMasterSecret(clientFinishedHash: Uint8Array): Uint8Array {
    return this.deriveSecret(this.masterSecret, 'res master', clientFinishedHash);
  }

  /** RFC 8446 §4.6.1: a ticket's PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", nonce, Hash.length). */
  resumptionPsk(resumptionMasterSecret: Uint8Array, ticketNonce: Uint8Array): Uint8Array {
    return this.expandLabel(resumptionMasterSecret, 'resumption', ticketNonce, this.hashLength);
  }

  /** RFC 8446 §4.4.4: verify_data = HMAC(finished_key, Transcript-Hash). */
  finishedVerifyData(baseKey: Uint8Array, transcriptHash: Uint8Array): Uint8Array {
    const finishedKey = this.expandLabel(baseKey, 'finished', EMPTY, this.hashLength);
    return this.provider.hmac(this.suite.hash, finishedKey, transcriptHash);
  }

  trafficKeys(secret: Uint8Array): TrafficKeys {
    return {
      key: this.expandLabel(secret, 'key', EMPTY, this.suite.keyLength),
      iv: this.expandLabel(secret, 'iv', EMPTY, 12),
    };
  }

  /** RFC 8446 §7.2. */
  nextTrafficSecret(secret: Uint8Array): Uint8Array {
    return this.expandLabel(secret, 'traffic upd', EMPTY, this.hashLength);
  }

  /** RFC 8446 §7.5 TLS-Exporter. */
  exportKeyingMaterial(
    exporterSecret: Uint8Array,
    label: string,
    context: Uint8Array,
    length: number,
  ): Uint8Array {
    const secret = this.deriveSecret(exporterSecret, label, this.hash(EMPTY));
    return this.expandLabel(secret, 'exporter', this.hash(context), length);
  }
}
