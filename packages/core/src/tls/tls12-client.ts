/**
 * The TLS 1.2 client handshake (RFC 5246 §7.3), entered from the TLS 1.3 client when the server
 * answers with a TLS 1.2 ServerHello: the downgrade sentinel is checked (RFC 8446 §4.1.3), then
 * Certificate, the signed ECDHE ServerKeyExchange and ServerHelloDone in; ClientKeyExchange,
 * ChangeCipherSpec and Finished out; ChangeCipherSpec and Finished in. The server must agree to
 * extended master secret (RFC 7627 §5.3) and secure renegotiation (RFC 5746 §3.4).
 */
import { keyShareLength, keyShareSeedLength, KeyExchangeError, type NamedGroup } from '../crypto/provider.js';
import { verifyServerChainSync } from '../certs/verify.js';
import {
  certificateRejected,
  expectMessage,
  internalError,
  invalidMessage,
  misbehaved,
  notNegotiated,
  unexpectedMessage,
} from './failures.js';
import { bytesEqual } from './codec.js';
import { DOWNGRADE_TLS11, DOWNGRADE_TLS12, ExtensionType, HandshakeType, groupByCode } from './constants.js';
import type { ClientHandshakeConfig } from './client-handshake.js';
import type { Transcript, HandshakeIo, HandshakeMessage } from './handshake-common.js';
import { decodeAlpn, encodeHandshake, findExtension, type Extension, type ServerHello } from './messages.js';
import {
  extendedMasterSecret,
  exportKeyingMaterial12,
  finishedVerifyData12,
  keyBlock,
  type Tls12TrafficKeys,
} from './prf.js';
import { RecordProtection12 } from './record-protection12.js';
import {
  EMPTY_RENEGOTIATION_INFO,
  UNCOMPRESSED_ONLY,
  decodeCertificate12,
  decodeEcPointFormats,
  decodeFinished12,
  decodeRenegotiationInfo,
  decodeServerKeyExchange,
  encodeClientKeyExchange,
  expectEmptyBody,
  serverKeyExchangeSignedContent,
} from './tls12-messages.js';
import { TLS12_SCHEME_CODES, certificateAuth, scheme12ByCode, verify12 } from './tls12-signing.js';
import {
  EXT12,
  HandshakeType12,
  TLS12_GROUPS,
  TLS12_SUITES,
  tls12SuiteByCode,
  type Tls12Suite,
} from './tls12-suites.js';

/** What the ClientHello offered that the TLS 1.2 machine checks the server against. */
export interface Offered12 {
  readonly clientRandom: Uint8Array;
  readonly suites: readonly number[];
  readonly groups: readonly NamedGroup[];
  /** We offered TLS 1.3 too: a 1.2 answer must not carry the downgrade sentinel. */
  readonly offered13: boolean;
}

/** The TLS 1.2 parts of a ClientHello: suites, the 1.2-only extensions, extra signature schemes. */
export function clientHello12Parts(config: ClientHandshakeConfig): {
  suites: number[];
  extensions: Extension[];
  schemes: readonly number[];
} {
  return {
    suites: (config.suites12 ?? TLS12_SUITES).map((s) => s.code),
    extensions: [
      { type: EXT12.ec_point_formats, data: UNCOMPRESSED_ONLY },
      { type: EXT12.extended_master_secret, data: new Uint8Array(0) },
      { type: EXT12.renegotiation_info, data: EMPTY_RENEGOTIATION_INFO },
    ],
    schemes: TLS12_SCHEME_CODES,
  };
}

/** ECDHE groups usable with TLS 1.2 among those offered (RFC 8422 §5.1.1). */
export function tls12Groups(groups: readonly NamedGroup[]): NamedGroup[] {
  return groups.filter((g) => TLS12_GROUPS.includes(g));
}

interface Negotiated12 {
  readonly suite: Tls12Suite;
  readonly serverRandom: Uint8Array;
  readonly alpn?: string;
}

interface Keys12 {
  readonly master: Uint8Array;
  readonly client: Tls12TrafficKeys;
  readonly server: Tls12TrafficKeys;
}

interface ServerParams {
  readonly group: NamedGroup;
  readonly point: Uint8Array;
  readonly scheme: string;
}

interface Peer {
  readonly chain: Uint8Array[];
  readonly params: ServerParams;
  readonly verdict: { ok: boolean; reason?: string };
}

export type Client12State =
  | { kind: 'wait-server-hello' }
  | { kind: 'wait-certificate'; n: Negotiated12 }
  | { kind: 'wait-server-key-exchange'; n: Negotiated12; chain: Uint8Array[] }
  | { kind: 'wait-server-hello-done'; n: Negotiated12; chain: Uint8Array[]; params: ServerParams }
  | { kind: 'wait-change-cipher-spec'; n: Negotiated12; keys: Keys12; peer: Peer }
  | { kind: 'wait-finished'; n: Negotiated12; keys: Keys12; peer: Peer }
  | { kind: 'done' };

export class Tls12ClientHandshake {
  private state: Client12State = { kind: 'wait-server-hello' };

  constructor(
    private readonly io: HandshakeIo,
    private readonly config: ClientHandshakeConfig,
    private readonly transcript: Transcript,
    private readonly offered: Offered12,
  ) {}

  get kind(): Client12State['kind'] {
    return this.state.kind;
  }

  get done(): boolean {
    return this.state.kind === 'done';
  }

  get acceptsChangeCipherSpec(): boolean {
    return this.state.kind === 'wait-change-cipher-spec';
  }

  onChangeCipherSpec(): void {
    const state = this.state;
    if (state.kind !== 'wait-change-cipher-spec')
      throw misbehaved('unexpectedChangeCipherSpec', 'unexpected change_cipher_spec');
    this.protect('read', state.n.suite, state.keys.server);
    this.state = { kind: 'wait-finished', n: state.n, keys: state.keys, peer: state.peer };
  }

  /** RFC 5246 §7.4.1.3, checked against what we offered. */
  onServerHello(msg: HandshakeMessage, sh: ServerHello): void {
    if (this.state.kind !== 'wait-server-hello') throw misbehaved('secondServerHello', 'second ServerHello');
    this.io.pinRecordVersion12?.();
    // RFC 8446 §4.1.3: a TLS 1.3 server sets these when it negotiates lower; someone removed our 1.3 offer.
    const tail = sh.random.subarray(24);
    if (this.offered.offered13 && (bytesEqual(tail, DOWNGRADE_TLS12) || bytesEqual(tail, DOWNGRADE_TLS11))) {
      throw misbehaved('downgradeDetected', 'downgrade sentinel in ServerHello.random: TLS 1.3 was stripped');
    }
    const suite = tls12SuiteByCode(sh.cipherSuite);
    if (!suite || !this.offered.suites.includes(suite.code))
      throw misbehaved('selectedNotOffered', 'server selected a cipher suite we did not offer');
    if (sh.compressionMethod !== 0) throw misbehaved('compressionNotNull', 'compression method must be null');
    const allowed: number[] = [
      EXT12.renegotiation_info,
      EXT12.extended_master_secret,
      EXT12.ec_point_formats,
      ExtensionType.server_name,
      ExtensionType.alpn,
    ];
    for (const e of sh.extensions) {
      // RFC 5246 §7.4.1.4: an extension we did not offer is fatal.
      if (!allowed.includes(e.type))
        throw misbehaved('unsolicitedExtension', `unexpected extension ${e.type} in ServerHello`);
    }
    const ems = findExtension(sh.extensions, EXT12.extended_master_secret);
    if (!ems)
      throw notNegotiated(
        'extendedMasterSecretRequired',
        'server does not support extended master secret (RFC 7627)',
      );
    if (ems.length !== 0) throw invalidMessage('extended_master_secret must be empty');
    const ri = findExtension(sh.extensions, EXT12.renegotiation_info);
    // RFC 5746 §3.4: the initial handshake's renegotiated_connection is empty.
    if (!ri)
      throw notNegotiated(
        'secureRenegotiationRequired',
        'server does not support secure renegotiation (RFC 5746)',
      );
    if (decodeRenegotiationInfo(ri).length !== 0)
      throw misbehaved('renegotiationInfoNotEmpty', 'renegotiation_info is not empty');
    const formats = findExtension(sh.extensions, EXT12.ec_point_formats);
    if (formats && !decodeEcPointFormats(formats).includes(0))
      throw misbehaved('uncompressedPointsRefused', 'server does not accept uncompressed points');
    const sni = findExtension(sh.extensions, ExtensionType.server_name);
    if (sni && sni.length !== 0) throw invalidMessage('server_name in ServerHello must be empty');
    let alpn: string | undefined;
    const alpnExt = findExtension(sh.extensions, ExtensionType.alpn);
    if (alpnExt) {
      const list = decodeAlpn(alpnExt);
      if (list.length !== 1 || !this.config.alpnProtocols?.includes(list[0]!))
        throw misbehaved('selectedNotOffered', 'server chose an ALPN protocol we did not offer');
      alpn = list[0];
    }
    this.transcript.start(suite.hash);
    this.transcript.add(msg.raw);
    this.state = { kind: 'wait-certificate', n: { suite, serverRandom: sh.random, alpn } };
  }

  handle(msg: HandshakeMessage): void {
    const state = this.state;
    // RFC 5246 §7.4.1.1: a HelloRequest during a handshake is ignored, and is not in the transcript.
    if (msg.type === HandshakeType12.hello_request && state.kind !== 'done')
      return expectEmptyBody(msg.body, 'HelloRequest');
    const expect = (type: number, name: string) => expectMessage(msg, type, name);
    switch (state.kind) {
      case 'wait-server-hello':
      case 'wait-change-cipher-spec':
      case 'done':
        throw unexpectedMessage(`handshake message ${msg.type} not expected now`);
      case 'wait-certificate':
        expect(HandshakeType.certificate, 'Certificate');
        return this.onCertificate(msg, state);
      case 'wait-server-key-exchange':
        expect(HandshakeType12.server_key_exchange, 'ServerKeyExchange');
        return this.onServerKeyExchange(msg, state);
      case 'wait-server-hello-done':
        if (msg.type === HandshakeType.certificate_request)
          throw notNegotiated('clientCertificatesUnsupported', 'client certificates are not supported');
        expect(HandshakeType12.server_hello_done, 'ServerHelloDone');
        return this.onServerHelloDone(msg, state);
      case 'wait-finished':
        expect(HandshakeType.finished, 'Finished');
        return this.onFinished(msg, state);
    }
  }

  private onCertificate(
    msg: HandshakeMessage,
    state: Extract<Client12State, { kind: 'wait-certificate' }>,
  ): void {
    const chain = decodeCertificate12(msg.body);
    if (chain.length === 0) throw invalidMessage('server sent an empty certificate list');
    let auth;
    try {
      auth = certificateAuth(chain[0]!);
    } catch (err) {
      throw misbehaved(
        'unreadableCertificate',
        `cannot read the server certificate: ${(err as Error).message}`,
      );
    }
    // RFC 8422 §5.3: the certificate's key must fit the suite's authentication.
    if (auth !== state.n.suite.auth)
      throw misbehaved(
        'certificateDoesNotFitSuite',
        `a ${auth ?? 'unknown'} certificate for an ${state.n.suite.auth} suite`,
      );
    this.transcript.add(msg.raw);
    this.state = { kind: 'wait-server-key-exchange', n: state.n, chain };
  }

  private onServerKeyExchange(
    msg: HandshakeMessage,
    state: Extract<Client12State, { kind: 'wait-server-key-exchange' }>,
  ): void {
    const ske = decodeServerKeyExchange(msg.body);
    const group = groupByCode(ske.params.group);
    if (!group || !this.offered.groups.includes(group))
      throw misbehaved('selectedNotOffered', 'server chose a group we did not offer');
    if (ske.params.publicKey.length !== keyShareLength(group, 'server'))
      throw misbehaved('badKeyShare', `malformed ${group} point`);
    const scheme = scheme12ByCode(ske.scheme);
    if (!scheme)
      throw misbehaved('selectedNotOffered', `signature scheme 0x${ske.scheme.toString(16)} was not offered`);
    const fits = state.n.suite.auth === 'rsa' ? scheme.keyType === 'rsa' : scheme.keyType !== 'rsa';
    if (!fits) throw misbehaved('selectedNotOffered', `${scheme.name} does not fit ${state.n.suite.name}`);
    const content = serverKeyExchangeSignedContent(
      this.offered.clientRandom,
      state.n.serverRandom,
      ske.paramsRaw,
    );
    let ok: boolean;
    try {
      ok = verify12(state.chain[0]!, scheme, content, ske.signature, this.config.minRsaBits);
    } catch (err) {
      throw misbehaved(
        'unreadableCertificate',
        `cannot read the server certificate: ${(err as Error).message}`,
      );
    }
    if (!ok) throw misbehaved('signatureMismatch', 'ServerKeyExchange signature does not verify');
    this.transcript.add(msg.raw);
    this.state = {
      kind: 'wait-server-hello-done',
      n: state.n,
      chain: state.chain,
      params: { group, point: ske.params.publicKey, scheme: scheme.name },
    };
  }

  private onServerHelloDone(
    msg: HandshakeMessage,
    state: Extract<Client12State, { kind: 'wait-server-hello-done' }>,
  ): void {
    expectEmptyBody(msg.body, 'ServerHelloDone');
    this.transcript.add(msg.raw);
    // RFC 6125 name check and path validation before we commit a key exchange to this server.
    const verdict = verifyServerChainSync(state.chain, {
      ca: this.config.ca,
      serverName: this.config.serverName,
      now: this.config.now?.(),
    });
    if (!verdict.ok && this.config.rejectUnauthorized) {
      const reason = verdict.reason ?? 'certificate rejected';
      throw certificateRejected(reason);
    }
    const { group, point } = state.params;
    const share = this.io.provider.generateKeyShare(group, this.io.random(keyShareSeedLength(group)));
    let preMaster: Uint8Array;
    try {
      preMaster = share.complete(point);
    } catch (err) {
      if (err instanceof KeyExchangeError) throw misbehaved('badKeyShare', err.message);
      throw err;
    }
    const cke = encodeClientKeyExchange(share.publicKey);
    this.transcript.add(cke);
    this.io.sendHandshake(cke);
    // RFC 7627 §4: the master secret binds the whole handshake so far.
    const { suite } = state.n;
    const master = extendedMasterSecret(this.io.provider, suite, preMaster, this.transcript.current());
    this.io.keyLog('CLIENT_RANDOM', this.offered.clientRandom, master);
    const keys = {
      master,
      ...keyBlock(this.io.provider, suite, master, this.offered.clientRandom, state.n.serverRandom),
    };
    this.io.sendChangeCipherSpec();
    this.protect('write', suite, keys.client);
    const finished = encodeHandshake(
      HandshakeType.finished,
      finishedVerifyData12(this.io.provider, suite, master, 'client', this.transcript.current()),
    );
    this.transcript.add(finished);
    this.io.sendHandshake(finished);
    this.state = {
      kind: 'wait-change-cipher-spec',
      n: state.n,
      keys,
      peer: { chain: state.chain, params: state.params, verdict },
    };
  }

  private onFinished(msg: HandshakeMessage, state: Extract<Client12State, { kind: 'wait-finished' }>): void {
    const { n, keys, peer } = state;
    const expected = finishedVerifyData12(
      this.io.provider,
      n.suite,
      keys.master,
      'server',
      this.transcript.current(),
    );
    if (!bytesEqual(expected, decodeFinished12(msg.body)))
      throw misbehaved('finishedMismatch', 'server Finished does not verify');
    this.transcript.add(msg.raw);
    this.state = { kind: 'done' };
    const provider = this.io.provider;
    const clientRandom = this.offered.clientRandom;
    this.io.complete({
      version: 'TLSv1.2',
      cipherSuite: n.suite,
      group: peer.params.group,
      signatureScheme: peer.params.scheme,
      serverName: this.config.serverName,
      alpnProtocol: n.alpn,
      peerCertificates: peer.chain,
      peerVerified: peer.verdict.ok,
      verificationError: peer.verdict.ok ? undefined : peer.verdict.reason,
      exporterSecret: new Uint8Array(0),
      clientRandom,
      exporter: (label, context, length) =>
        exportKeyingMaterial12(
          provider,
          n.suite,
          keys.master,
          clientRandom,
          n.serverRandom,
          label,
          context,
          length,
        ),
    });
  }

  private protect(direction: 'read' | 'write', suite: Tls12Suite, keys: Tls12TrafficKeys): void {
    if (!this.io.setProtection12) throw internalError('this connection cannot do TLS 1.2 record protection');
    this.io.setProtection12(direction, new RecordProtection12(this.io.provider, suite, keys));
  }
}
