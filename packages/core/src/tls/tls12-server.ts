/**
 * The TLS 1.2 server handshake (RFC 5246 §7.3) as a state machine, entered from the TLS 1.3
 * server once version negotiation settles on 1.2: ServerHello, Certificate, ECDHE
 * ServerKeyExchange and ServerHelloDone out; ClientKeyExchange, ChangeCipherSpec and Finished
 * in; ChangeCipherSpec and Finished out. Extended master secret is required (RFC 7627 §5.3),
 * renegotiation_info is answered (RFC 5746 §3.6), no resumption, no client certificates.
 */
import {
  keyShareLength,
  keyShareSeedLength,
  KeyExchangeError,
  type KeyShareSecret,
  type NamedGroup,
} from '../crypto/provider.js';
import {
  expectMessage,
  internalError,
  invalidMessage,
  misbehaved,
  notNegotiated,
  unexpectedMessage,
} from './failures.js';
import { bytesEqual } from './codec.js';
import { DOWNGRADE_TLS12, ExtensionType, GROUP_CODES, HandshakeType, TLS13 } from './constants.js';
import { Transcript, type HandshakeIo, type HandshakeMessage } from './handshake-common.js';
import {
  decodeAlpn,
  decodeServerName,
  decodeU16List,
  encodeAlpn,
  encodeHandshake,
  encodeServerHello,
  findExtension,
  type ClientHello,
  type Extension,
} from './messages.js';
import {
  extendedMasterSecret,
  exportKeyingMaterial12,
  finishedVerifyData12,
  keyBlock,
  type Tls12TrafficKeys,
} from './prf.js';
import { RecordProtection12 } from './record-protection12.js';
import type { ServerHandshakeConfig } from './server-handshake.js';
import {
  EMPTY_RENEGOTIATION_INFO,
  UNCOMPRESSED_ONLY,
  decodeClientKeyExchange,
  decodeEcPointFormats,
  decodeFinished12,
  decodeRenegotiationInfo,
  encodeCertificate12,
  encodeServerEcdhParams,
  encodeServerHelloDone,
  encodeServerKeyExchange,
  serverKeyExchangeSignedContent,
} from './tls12-messages.js';
import { signer12For } from './tls12-signing.js';
import {
  EMPTY_RENEGOTIATION_INFO_SCSV,
  EXT12,
  HandshakeType12,
  TLS12_GROUPS,
  chooseTls12Suite,
  type Tls12Suite,
} from './tls12-suites.js';
import type { VersionRange } from './versions.js';

interface Negotiated12 {
  readonly suite: Tls12Suite;
  readonly group: NamedGroup;
  readonly scheme: string;
  readonly serverName?: string;
  readonly alpn?: string;
  readonly clientRandom: Uint8Array;
  readonly serverRandom: Uint8Array;
}

interface Keys12 {
  readonly master: Uint8Array;
  readonly client: Tls12TrafficKeys;
  readonly server: Tls12TrafficKeys;
}

export type Server12State =
  | { kind: 'wait-client-hello' }
  | { kind: 'wait-client-key-exchange'; n: Negotiated12; share: KeyShareSecret }
  | { kind: 'wait-change-cipher-spec'; n: Negotiated12; keys: Keys12 }
  | { kind: 'wait-finished'; n: Negotiated12; keys: Keys12 }
  | { kind: 'done' };

export class Tls12ServerHandshake {
  private state: Server12State = { kind: 'wait-client-hello' };
  private readonly transcript: Transcript;

  constructor(
    private readonly io: HandshakeIo,
    private readonly config: ServerHandshakeConfig,
    private readonly range: VersionRange,
  ) {
    this.transcript = new Transcript(io.provider);
  }

  get kind(): Server12State['kind'] {
    return this.state.kind;
  }

  get done(): boolean {
    return this.state.kind === 'done';
  }

  /** RFC 5246 §7.1: ChangeCipherSpec comes exactly between ClientKeyExchange and Finished. */
  get acceptsChangeCipherSpec(): boolean {
    return this.state.kind === 'wait-change-cipher-spec';
  }

  onChangeCipherSpec(): void {
    const state = this.state;
    if (state.kind !== 'wait-change-cipher-spec')
      throw misbehaved('unexpectedChangeCipherSpec', 'unexpected change_cipher_spec');
    this.protect('read', state.n.suite, state.keys.client);
    this.state = { kind: 'wait-finished', n: state.n, keys: state.keys };
  }

  handle(msg: HandshakeMessage): void {
    const state = this.state;
    switch (state.kind) {
      case 'wait-client-hello':
        throw internalError('the ClientHello goes through onClientHello');
      case 'wait-client-key-exchange':
        if (msg.type === HandshakeType.certificate)
          throw unexpectedMessage('client certificate without a request');
        expectMessage(msg, HandshakeType12.client_key_exchange, 'ClientKeyExchange');
        return this.onClientKeyExchange(msg, state);
      case 'wait-change-cipher-spec':
        throw unexpectedMessage(`expected ChangeCipherSpec, got handshake message ${msg.type}`);
      case 'wait-finished':
        expectMessage(msg, HandshakeType.finished, 'Finished');
        return this.onFinished(msg, state);
      case 'done':
        throw unexpectedMessage(`handshake message ${msg.type} after the handshake`);
    }
  }

  private groups(): readonly NamedGroup[] {
    const available = this.io.provider.groups;
    return TLS12_GROUPS.filter(
      (g) => available.includes(g) && (this.config.groups ?? TLS12_GROUPS).includes(g),
    );
  }

  /** RFC 5246 §7.4.1.2–§7.4.5: answer the ClientHello with the whole server flight. */
  onClientHello(msg: HandshakeMessage, ch: ClientHello): void {
    if (this.state.kind !== 'wait-client-hello') throw misbehaved('secondClientHello', 'second ClientHello');
    // RFC 5246 §7.4.1.2: the null method must be among those offered; we never compress (CRIME).
    if (!ch.compressionMethods.includes(0))
      throw misbehaved('compressionNotNull', 'null compression not offered');
    // RFC 7627 §5.3: a server may refuse a full handshake without extended_master_secret; we do.
    const ems = findExtension(ch.extensions, EXT12.extended_master_secret);
    if (!ems)
      throw notNegotiated('extendedMasterSecretRequired', 'extended_master_secret is required (RFC 7627)');
    if (ems.length !== 0) throw invalidMessage('extended_master_secret must be empty');
    // RFC 5746 §3.6: an initial ClientHello's renegotiated_connection must be empty.
    const ri = findExtension(ch.extensions, EXT12.renegotiation_info);
    if (ri && decodeRenegotiationInfo(ri).length !== 0)
      throw misbehaved('renegotiationInfoNotEmpty', 'renegotiation_info is not empty');
    const secureRenegotiation = ri !== undefined || ch.cipherSuites.includes(EMPTY_RENEGOTIATION_INFO_SCSV);
    // RFC 8422 §5.1.2: a client listing point formats must list uncompressed.
    const pointFormats = findExtension(ch.extensions, EXT12.ec_point_formats);
    if (pointFormats && !decodeEcPointFormats(pointFormats).includes(0))
      throw misbehaved('uncompressedPointsRefused', 'uncompressed points not offered');

    const serverNameExt = findExtension(ch.extensions, ExtensionType.server_name);
    const serverName = serverNameExt ? decodeServerName(serverNameExt) : undefined;
    const signer = signer12For(this.config.certificates.select(serverName));
    const suite = chooseTls12Suite(ch.cipherSuites, signer.auth);
    if (!suite) throw notNegotiated('noCommonCipherSuite', 'no cipher suite in common');

    // RFC 8422 §4: without supported_groups the server may choose; P-256 is what such clients know.
    const groupsExt = findExtension(ch.extensions, ExtensionType.supported_groups);
    const clientGroups = groupsExt
      ? decodeU16List(groupsExt, 2, 2, 'supported_groups')
      : [GROUP_CODES.secp256r1];
    const group = this.groups().find((g) => clientGroups.includes(GROUP_CODES[g]));
    if (!group) throw notNegotiated('noCommonGroup', 'no ECDHE group in common');

    // RFC 5246 §7.4.1.4.1: without signature_algorithms the client means SHA-1, which we do not sign.
    const sigExt = findExtension(ch.extensions, ExtensionType.signature_algorithms);
    const clientSchemes = sigExt ? decodeU16List(sigExt, 2, 2, 'signature_algorithms') : [];
    const scheme = signer.schemes.find((s) => clientSchemes.includes(s.code));
    if (!scheme)
      throw notNegotiated('noCommonSignatureScheme', 'no signature scheme in common for our certificate');

    let alpn: string | undefined;
    const alpnExt = findExtension(ch.extensions, ExtensionType.alpn);
    if (alpnExt && this.config.alpnProtocols?.length) {
      alpn = decodeAlpn(alpnExt).find((p) => this.config.alpnProtocols!.includes(p));
      if (!alpn) throw notNegotiated('noCommonApplicationProtocol', 'no application protocol in common'); // RFC 7301 §3.2
    }

    const serverRandom = Uint8Array.from(this.io.random(32));
    // RFC 8446 §4.1.3: a server able to do TLS 1.3 that negotiates 1.2 says so in its random.
    if (this.range.max >= TLS13) serverRandom.set(DOWNGRADE_TLS12, 24);
    const share = this.io.provider.generateKeyShare(group, this.io.random(keyShareSeedLength(group)));

    // RFC 5246 §7.4.1.4: only extensions the client offered come back.
    const exts: Extension[] = [];
    if (secureRenegotiation) exts.push({ type: EXT12.renegotiation_info, data: EMPTY_RENEGOTIATION_INFO });
    exts.push({ type: EXT12.extended_master_secret, data: new Uint8Array(0) });
    if (pointFormats) exts.push({ type: EXT12.ec_point_formats, data: UNCOMPRESSED_ONLY });
    if (serverName !== undefined) exts.push({ type: ExtensionType.server_name, data: new Uint8Array(0) });
    if (alpn) exts.push({ type: ExtensionType.alpn, data: encodeAlpn([alpn]) });
    const serverHello = encodeServerHello({
      legacyVersion: 0x0303,
      random: serverRandom,
      // No session cache: an empty session_id says this session cannot be resumed (RFC 5246 §7.4.1.3).
      sessionId: new Uint8Array(0),
      cipherSuite: suite.code,
      compressionMethod: 0,
      extensions: this.config.extensionHook ? this.config.extensionHook('ServerHello', exts) : exts,
    });
    this.transcript.add(msg.raw);
    this.transcript.start(suite.hash);
    this.sendAndHash(serverHello);
    this.io.pinRecordVersion12?.();
    this.sendAndHash(encodeCertificate12(signer.chain));
    // RFC 8422 §5.4: the ECDHE parameters, signed with the certificate's key.
    const params = encodeServerEcdhParams({ group: GROUP_CODES[group], publicKey: share.publicKey });
    const signature = signer.sign(scheme, serverKeyExchangeSignedContent(ch.random, serverRandom, params));
    this.sendAndHash(encodeServerKeyExchange(params, scheme.code, signature));
    this.sendAndHash(encodeServerHelloDone());
    this.state = {
      kind: 'wait-client-key-exchange',
      n: { suite, group, scheme: scheme.name, serverName, alpn, clientRandom: ch.random, serverRandom },
      share,
    };
  }

  private onClientKeyExchange(
    msg: HandshakeMessage,
    state: Extract<Server12State, { kind: 'wait-client-key-exchange' }>,
  ): void {
    const point = decodeClientKeyExchange(msg.body);
    // RFC 8422 §5.1.2: uncompressed points only (the length and 0x04 prefix say so).
    if (point.length !== keyShareLength(state.n.group, 'client'))
      throw misbehaved('badKeyShare', `malformed ${state.n.group} point`);
    let preMaster: Uint8Array;
    try {
      preMaster = state.share.complete(point);
    } catch (err) {
      if (err instanceof KeyExchangeError) throw misbehaved('badKeyShare', err.message);
      throw err;
    }
    this.transcript.add(msg.raw);
    // RFC 7627 §3: session_hash covers ClientHello up to and including ClientKeyExchange.
    const master = extendedMasterSecret(
      this.io.provider,
      state.n.suite,
      preMaster,
      this.transcript.current(),
    );
    this.io.keyLog('CLIENT_RANDOM', state.n.clientRandom, master);
    const kb = keyBlock(this.io.provider, state.n.suite, master, state.n.clientRandom, state.n.serverRandom);
    this.state = { kind: 'wait-change-cipher-spec', n: state.n, keys: { master, ...kb } };
  }

  private onFinished(msg: HandshakeMessage, state: Extract<Server12State, { kind: 'wait-finished' }>): void {
    const { n, keys } = state;
    const expected = finishedVerifyData12(
      this.io.provider,
      n.suite,
      keys.master,
      'client',
      this.transcript.current(),
    );
    if (!bytesEqual(expected, decodeFinished12(msg.body)))
      throw misbehaved('finishedMismatch', 'client Finished does not verify');
    this.transcript.add(msg.raw);
    this.io.sendChangeCipherSpec();
    this.protect('write', n.suite, keys.server);
    const verify = finishedVerifyData12(
      this.io.provider,
      n.suite,
      keys.master,
      'server',
      this.transcript.current(),
    );
    this.sendAndHash(encodeHandshake(HandshakeType.finished, verify));
    this.state = { kind: 'done' };
    const provider = this.io.provider;
    this.io.complete({
      version: 'TLSv1.2',
      cipherSuite: n.suite,
      group: n.group,
      signatureScheme: n.scheme,
      serverName: n.serverName,
      alpnProtocol: n.alpn,
      peerCertificates: [],
      peerVerified: false,
      exporterSecret: new Uint8Array(0),
      clientRandom: n.clientRandom,
      exporter: (label, context, length) =>
        exportKeyingMaterial12(
          provider,
          n.suite,
          keys.master,
          n.clientRandom,
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

  private sendAndHash(message: Uint8Array): void {
    this.transcript.add(message);
    this.io.sendHandshake(message);
  }
}
