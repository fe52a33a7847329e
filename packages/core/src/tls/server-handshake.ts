/**
 * The TLS 1.3 server handshake (RFC 8446 §2, §4) as a state machine: ClientHello in, the
 * server flight out (with a HelloRetryRequest round when no acceptable key share came), the
 * client Finished in. No client certificates, no PSK, no 0-RTT.
 */
import { keyShareLength, keyShareSeedLength, KeyExchangeError, type NamedGroup } from '../crypto/provider.js';
import {
  loadSigningKey,
  SIGNATURE_SCHEME_CODES,
  type SignatureScheme,
  type SigningKey,
} from '../certs/signing.js';
import { parsePemChain } from '../certs/pem.js';
import type { CertificateSource, CertifiedKey } from './engine.js';
import { TlsFatal } from './alerts.js';
import { bytesEqual } from './codec.js';
import {
  ExtensionType,
  GROUP_CODES,
  HRR_RANDOM,
  HandshakeType,
  TLS13,
  type CipherSuite,
} from './constants.js';
import {
  Transcript,
  certificateVerifyContent,
  type ExtensionHook,
  type HandshakeIo,
  type HandshakeMessage,
} from './handshake-common.js';
import { KeySchedule } from './key-schedule.js';
import {
  decodeAlpn,
  decodeClientHello,
  decodeClientKeyShares,
  decodeCookie,
  decodeServerName,
  decodeU16,
  decodeU16List,
  encodeAlpn,
  encodeCertificate,
  encodeCertificateVerify,
  encodeEncryptedExtensions,
  encodeHandshake,
  encodeServerHello,
  encodeServerKeyShare,
  findExtension,
  u16Bytes,
  type ClientHello,
  type Extension,
} from './messages.js';
import { EXT, SERVER_GROUP_PREFERENCE, chooseSuite } from './negotiation.js';
import type { TlsVersion } from './engine.js';
import { Tls12ServerHandshake } from './tls12-server.js';
import { chooseServerVersion, versionRange, type VersionRange } from './versions.js';

export interface ServerHandshakeConfig {
  certificates: CertificateSource;
  alpnProtocols?: readonly string[];
  /** Groups we accept, in preference order (default SERVER_GROUP_PREFERENCE ∩ provider). */
  groups?: readonly NamedGroup[];
  extensionHook?: ExtensionHook;
  /** Versions we accept (default TLSv1.3 only here; the engines default to TLSv1.2–TLSv1.3). */
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
}

type ServerState =
  | { kind: 'wait-client-hello' }
  | {
      kind: 'wait-client-hello-2';
      first: ClientHello;
      suite: CipherSuite;
      group: NamedGroup;
      cookie: Uint8Array;
    }
  | {
      kind: 'wait-finished';
      schedule: KeySchedule;
      clientHsSecret: Uint8Array;
      clientApSecret: Uint8Array;
      exporter: Uint8Array;
      facts: Facts;
    }
  | { kind: 'done' }
  /** Version negotiation chose TLS 1.2: that state machine runs the rest. */
  | { kind: 'tls12'; machine: Tls12ServerHandshake };

interface Facts {
  suite: CipherSuite;
  group: NamedGroup;
  scheme: SignatureScheme;
  serverName?: string;
  alpn?: string;
  clientRandom: Uint8Array;
}

const signingKeys = new WeakMap<CertifiedKey, { key: SigningKey; chain: Uint8Array[] }>();
function signerFor(certified: CertifiedKey) {
  let s = signingKeys.get(certified);
  if (!s) {
    s = {
      key: certified.signingKey ?? loadSigningKey(certified.privateKeyPem),
      chain: parsePemChain(certified.certificateChainPem),
    };
    signingKeys.set(certified, s);
  }
  return s;
}

export class ServerHandshake {
  private state: ServerState = { kind: 'wait-client-hello' };
  private readonly transcript: Transcript;
  private ccsSent = false;
  private readonly range: VersionRange;

  constructor(
    private readonly io: HandshakeIo,
    private readonly config: ServerHandshakeConfig,
  ) {
    this.transcript = new Transcript(io.provider);
    this.range = versionRange(config.minVersion, config.maxVersion);
  }

  get done(): boolean {
    return this.state.kind === 'done' || (this.state.kind === 'tls12' && this.state.machine.done);
  }

  /** Whether a middlebox-compatibility change_cipher_spec may arrive now (RFC 8446 §5). */
  get acceptsChangeCipherSpec(): boolean {
    if (this.state.kind === 'tls12') return this.state.machine.acceptsChangeCipherSpec;
    return this.state.kind !== 'wait-client-hello' && this.state.kind !== 'done';
  }

  /** A change_cipher_spec arrived: meaningful in TLS 1.2 only (RFC 5246 §7.1). */
  onChangeCipherSpec(): void {
    if (this.state.kind === 'tls12') this.state.machine.onChangeCipherSpec();
  }

  handle(msg: HandshakeMessage): void {
    const state = this.state;
    switch (state.kind) {
      case 'tls12':
        return state.machine.handle(msg);
      case 'wait-client-hello':
        if (msg.type !== HandshakeType.client_hello)
          throw new TlsFatal('unexpected_message', `expected ClientHello, got ${msg.type}`);
        return this.onClientHello(msg, undefined);
      case 'wait-client-hello-2':
        if (msg.type !== HandshakeType.client_hello)
          throw new TlsFatal('unexpected_message', `expected ClientHello, got ${msg.type}`);
        return this.onClientHello(msg, state);
      case 'wait-finished':
        if (msg.type !== HandshakeType.finished)
          throw new TlsFatal('unexpected_message', `expected Finished, got ${msg.type}`);
        return this.onFinished(msg, state);
      case 'done':
        throw new TlsFatal('unexpected_message', `handshake message ${msg.type} after the handshake`);
    }
  }

  private groups(): readonly NamedGroup[] {
    const available = this.io.provider.groups;
    return (this.config.groups ?? SERVER_GROUP_PREFERENCE).filter((g) => available.includes(g));
  }

  private onClientHello(
    msg: HandshakeMessage,
    retry: Extract<ServerState, { kind: 'wait-client-hello-2' }> | undefined,
  ): void {
    const ch = decodeClientHello(msg.body);
    if (!retry && chooseServerVersion(ch, this.range) !== TLS13) {
      const machine = new Tls12ServerHandshake(this.io, this.config, this.range);
      this.state = { kind: 'tls12', machine };
      return machine.onClientHello(msg, ch);
    }
    const versionsExt = findExtension(ch.extensions, ExtensionType.supported_versions);
    // RFC 8446 §4.2.1: without supported_versions this is TLS 1.2 or older, which we do not speak.
    if (!versionsExt) throw new TlsFatal('protocol_version', 'client does not offer TLS 1.3');
    const versions = decodeU16List(versionsExt, 1, 2, 'supported_versions');
    if (!versions.includes(TLS13)) throw new TlsFatal('protocol_version', 'client does not offer TLS 1.3');
    if (ch.compressionMethods.length !== 1 || ch.compressionMethods[0] !== 0) {
      throw new TlsFatal('illegal_parameter', 'TLS 1.3 requires the null compression method only');
    }
    // RFC 8446 §4.2.10: we do not accept early data; PSK is not offered (no tickets issued).
    const suite = chooseSuite(ch.cipherSuites);
    if (!suite) throw new TlsFatal('handshake_failure', 'no cipher suite in common');
    const sigExt = findExtension(ch.extensions, ExtensionType.signature_algorithms);
    if (!sigExt)
      throw new TlsFatal('missing_extension', 'signature_algorithms is required (RFC 8446 §4.2.3)');
    const clientSchemes = decodeU16List(sigExt, 2, 2, 'signature_algorithms');
    const groupsExt = findExtension(ch.extensions, ExtensionType.supported_groups);
    const shareExt = findExtension(ch.extensions, ExtensionType.key_share);
    if (!groupsExt || !shareExt)
      throw new TlsFatal('missing_extension', 'supported_groups and key_share are required');
    const clientGroups = decodeU16List(groupsExt, 2, 2, 'supported_groups');
    const shares = decodeClientKeyShares(shareExt);
    for (const sh of shares)
      if (!clientGroups.includes(sh.group))
        throw new TlsFatal('illegal_parameter', 'key share for a group not in supported_groups');

    if (retry) {
      // RFC 8446 §4.1.2: the second ClientHello repeats the first but for key_share, cookie, padding.
      if (!bytesEqual(ch.random, retry.first.random) || !bytesEqual(ch.sessionId, retry.first.sessionId)) {
        throw new TlsFatal('illegal_parameter', 'second ClientHello changed random or session id');
      }
      if (chooseSuite(ch.cipherSuites)?.code !== retry.suite.code)
        throw new TlsFatal('illegal_parameter', 'second ClientHello changed cipher suites');
      const cookie = findExtension(ch.extensions, ExtensionType.cookie);
      if (!cookie || !bytesEqual(decodeCookie(cookie), retry.cookie))
        throw new TlsFatal('illegal_parameter', 'cookie missing or changed');
      if (shares.length !== 1 || shares[0]!.group !== GROUP_CODES[retry.group]) {
        throw new TlsFatal(
          'illegal_parameter',
          'second ClientHello must carry exactly the requested key share',
        );
      }
    }

    const ours = this.groups();
    let chosen: { group: NamedGroup; share: Uint8Array } | undefined;
    for (const g of ours) {
      const s = shares.find((x) => x.group === GROUP_CODES[g]);
      if (s) {
        chosen = { group: g, share: s.keyExchange };
        break;
      }
    }
    if (!chosen) {
      if (retry) throw new TlsFatal('illegal_parameter', 'no usable key share after HelloRetryRequest');
      const g = ours.find((x) => clientGroups.includes(GROUP_CODES[x]));
      if (!g) throw new TlsFatal('handshake_failure', 'no key exchange group in common');
      return this.helloRetry(msg, ch, suite, g);
    }
    if (chosen.share.length !== keyShareLength(chosen.group, 'client'))
      throw new TlsFatal('illegal_parameter', `malformed ${chosen.group} key share`);

    const serverNameExt = findExtension(ch.extensions, ExtensionType.server_name);
    const serverName = serverNameExt ? decodeServerName(serverNameExt) : undefined;
    const certified = this.config.certificates.select(serverName);
    const signer = signerFor(certified);
    const scheme = signer.key.schemes.find((s) => clientSchemes.includes(SIGNATURE_SCHEME_CODES[s]));
    if (!scheme) throw new TlsFatal('handshake_failure', 'no signature scheme in common for our certificate');

    let alpn: string | undefined;
    const alpnExt = findExtension(ch.extensions, ExtensionType.alpn);
    if (alpnExt && this.config.alpnProtocols?.length) {
      const offered = decodeAlpn(alpnExt);
      alpn = offered.find((p) => this.config.alpnProtocols!.includes(p));
      // RFC 7301 §3.2.
      if (!alpn) throw new TlsFatal('no_application_protocol', 'no application protocol in common');
    }

    // RFC 8448 draws the server random before the key share: keep that order for its traces.
    const serverRandom = this.io.random(32);
    let response;
    try {
      response = this.io.provider.respondKeyShare(
        chosen.group,
        chosen.share,
        this.io.random(keyShareSeedLength(chosen.group)),
      );
    } catch (err) {
      if (err instanceof KeyExchangeError) throw new TlsFatal('illegal_parameter', err.message);
      throw err;
    }

    // ServerHello (RFC 8446 §4.1.3).
    const shExtensions = this.hook('ServerHello', [
      { type: ExtensionType.supported_versions, data: u16Bytes(TLS13) },
      {
        type: ExtensionType.key_share,
        data: encodeServerKeyShare({ group: GROUP_CODES[chosen.group], keyExchange: response.publicKey }),
      },
    ]);
    const serverHello = encodeServerHello({
      legacyVersion: 0x0303,
      random: serverRandom,
      sessionId: ch.sessionId,
      cipherSuite: suite.code,
      compressionMethod: 0,
      extensions: shExtensions,
    });
    if (!retry) this.transcript.start(suite.hash);
    this.transcript.add(msg.raw);
    this.transcript.add(serverHello);
    this.io.sendHandshake(serverHello);
    if (ch.sessionId.length > 0 && !this.ccsSent) {
      // RFC 8446 Appendix D.4: middlebox compatibility mode.
      this.io.sendChangeCipherSpec();
      this.ccsSent = true;
    }

    const schedule = new KeySchedule(this.io.provider, suite);
    const hs = schedule.handshakeTrafficSecrets(response.sharedSecret, this.transcript.current());
    this.io.keyLog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', ch.random, hs.client);
    this.io.keyLog('SERVER_HANDSHAKE_TRAFFIC_SECRET', ch.random, hs.server);
    this.io.setWriteSecret(suite, hs.server);
    this.io.setReadSecret(suite, hs.client);

    // EncryptedExtensions (RFC 8446 §4.3.1).
    const ee: Extension[] = [];
    if (serverName !== undefined) ee.push({ type: ExtensionType.server_name, data: new Uint8Array(0) });
    if (alpn) ee.push({ type: ExtensionType.alpn, data: encodeAlpn([alpn]) });
    const rsl = findExtension(ch.extensions, EXT.record_size_limit);
    if (rsl) {
      // RFC 8449 §4: our limit in TLS 1.3 counts the content type byte.
      ee.push({ type: EXT.record_size_limit, data: u16Bytes(16385) });
      this.io.peerRecordSizeLimit?.(decodeU16(rsl, 'record_size_limit'));
    }
    this.sendAndHash(encodeEncryptedExtensions(this.hook('EncryptedExtensions', ee)));
    this.sendAndHash(
      encodeCertificate({
        context: new Uint8Array(0),
        entries: signer.chain.map((data) => ({ data, extensions: [] })),
      }),
    );
    const signature = signer.key.sign(scheme, certificateVerifyContent('server', this.transcript.current()));
    this.sendAndHash(encodeCertificateVerify(SIGNATURE_SCHEME_CODES[scheme], signature));
    this.sendAndHash(
      encodeHandshake(
        HandshakeType.finished,
        schedule.finishedVerifyData(hs.server, this.transcript.current()),
      ),
    );

    const ap = schedule.applicationTrafficSecrets(this.transcript.current());
    this.io.keyLog('CLIENT_TRAFFIC_SECRET_0', ch.random, ap.client);
    this.io.keyLog('SERVER_TRAFFIC_SECRET_0', ch.random, ap.server);
    this.io.keyLog('EXPORTER_SECRET', ch.random, ap.exporter);
    this.io.setWriteSecret(suite, ap.server);
    this.state = {
      kind: 'wait-finished',
      schedule,
      clientHsSecret: hs.client,
      clientApSecret: ap.client,
      exporter: ap.exporter,
      facts: { suite, group: chosen.group, scheme, serverName, alpn, clientRandom: ch.random },
    };
  }

  private helloRetry(msg: HandshakeMessage, ch: ClientHello, suite: CipherSuite, group: NamedGroup): void {
    const cookie = this.io.random(32);
    const extensions = this.hook('HelloRetryRequest', [
      { type: ExtensionType.supported_versions, data: u16Bytes(TLS13) },
      { type: ExtensionType.key_share, data: u16Bytes(GROUP_CODES[group]) },
      { type: ExtensionType.cookie, data: Uint8Array.from([0, cookie.length, ...cookie]) },
    ]);
    const hrr = encodeServerHello({
      legacyVersion: 0x0303,
      random: HRR_RANDOM,
      sessionId: ch.sessionId,
      cipherSuite: suite.code,
      compressionMethod: 0,
      extensions,
    });
    this.transcript.add(msg.raw);
    // RFC 8446 §4.4.1: ClientHello1 becomes message_hash(Hash(ClientHello1)).
    this.transcript.replaceWithMessageHash(suite.hash);
    this.transcript.add(hrr);
    this.io.sendHandshake(hrr);
    if (ch.sessionId.length > 0) {
      this.io.sendChangeCipherSpec();
      this.ccsSent = true;
    }
    this.state = { kind: 'wait-client-hello-2', first: ch, suite, group, cookie };
  }

  private onFinished(msg: HandshakeMessage, state: Extract<ServerState, { kind: 'wait-finished' }>): void {
    const expected = state.schedule.finishedVerifyData(state.clientHsSecret, this.transcript.current());
    if (!bytesEqual(expected, msg.body))
      throw new TlsFatal('decrypt_error', 'client Finished does not verify');
    this.transcript.add(msg.raw);
    this.io.setReadSecret(state.facts.suite, state.clientApSecret);
    const f = state.facts;
    this.state = { kind: 'done' };
    this.io.complete({
      cipherSuite: f.suite,
      group: f.group,
      signatureScheme: f.scheme,
      serverName: f.serverName,
      alpnProtocol: f.alpn,
      peerCertificates: [],
      peerVerified: false,
      schedule: state.schedule,
      exporterSecret: state.exporter,
      clientRandom: f.clientRandom,
    });
  }

  private sendAndHash(message: Uint8Array): void {
    this.transcript.add(message);
    this.io.sendHandshake(message);
  }

  private hook(
    point: 'ServerHello' | 'HelloRetryRequest' | 'EncryptedExtensions',
    exts: Extension[],
  ): Extension[] {
    return this.config.extensionHook ? this.config.extensionHook(point, exts) : exts;
  }
}
