/**
 * The TLS 1.3 client handshake (RFC 8446 §2, §4): ClientHello out (again after a
 * HelloRetryRequest), the server flight in and checked — key share, certificate chain and
 * name (RFC 6125), CertificateVerify, Finished — then our Finished out.
 */
import { isIP } from 'node:net';
import {
  keyShareLength,
  keyShareSeedLength,
  KeyExchangeError,
  type KeyShareSecret,
  type NamedGroup,
} from '../crypto/provider.js';
import { schemeFromCode, verifySignature, type SignatureScheme } from '../certs/signing.js';
import { verifyServerChainSync } from '../certs/verify.js';
import { TlsFatal } from './alerts.js';
import { bytesEqual } from './codec.js';
import {
  CIPHER_SUITES,
  ExtensionType,
  GROUP_CODES,
  HandshakeType,
  TLS12,
  TLS13,
  groupByCode,
  suiteByCode,
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
  decodeCertificate,
  decodeCertificateVerify,
  decodeCookie,
  decodeEncryptedExtensions,
  decodeServerHello,
  decodeServerKeyShare,
  decodeU16,
  encodeAlpn,
  encodeClientHello,
  encodeClientKeyShares,
  encodeHandshake,
  encodeServerName,
  encodeU16List,
  findExtension,
  isHelloRetryRequest,
  type Extension,
  type ServerHello,
} from './messages.js';
import {
  CERT_SCHEME_CODES,
  CLIENT_GROUPS,
  EXT,
  OUR_SCHEMES,
  clientVersions,
  groupCodes,
  schemeCodes,
} from './negotiation.js';
import type { TlsVersion } from './engine.js';
import { Tls12ClientHandshake, clientHello12Parts, tls12Groups } from './tls12-client.js';
import type { Tls12Suite } from './tls12-suites.js';
import { versionRange, type VersionRange } from './versions.js';

export interface ClientHandshakeConfig {
  serverName?: string;
  ca?: string | readonly string[];
  rejectUnauthorized: boolean;
  alpnProtocols?: readonly string[];
  /** Groups offered, the first with a key share (default CLIENT_GROUPS ∩ provider). */
  groups?: readonly NamedGroup[];
  suites?: readonly CipherSuite[];
  now?: () => Date;
  extensionHook?: ExtensionHook;
  /** RFC 8446 Appendix D.4 (default true): a legacy session id and change_cipher_spec records. */
  middleboxCompat?: boolean;
  /** Weakest RSA server key accepted (default 2048; the RFC 8448 traces use 1024). */
  minRsaBits?: number;
  /** Versions we offer (default TLSv1.3 only here; the engines default to TLSv1.2–TLSv1.3). */
  minVersion?: TlsVersion;
  maxVersion?: TlsVersion;
  /** TLS 1.2 suites offered when TLS 1.2 is (default: all six, in our order). */
  suites12?: readonly Tls12Suite[];
}

interface Negotiated {
  suite: CipherSuite;
  group: NamedGroup;
  schedule: KeySchedule;
  serverHsSecret: Uint8Array;
  clientHsSecret: Uint8Array;
}

type ClientState =
  | { kind: 'start' }
  | { kind: 'wait-server-hello'; share: KeyShareSecret | undefined; retried: boolean }
  | { kind: 'wait-encrypted-extensions'; n: Negotiated }
  | { kind: 'wait-certificate'; n: Negotiated; alpn?: string }
  | { kind: 'wait-certificate-verify'; n: Negotiated; alpn?: string; chain: Uint8Array[] }
  | { kind: 'wait-finished'; n: Negotiated; alpn?: string; chain: Uint8Array[]; scheme: SignatureScheme }
  | { kind: 'done' }
  /** The server answered in TLS 1.2: that state machine runs the rest. */
  | { kind: 'tls12'; machine: Tls12ClientHandshake };

export class ClientHandshake {
  private state: ClientState = { kind: 'start' };
  private readonly transcript: Transcript;
  private random: Uint8Array = new Uint8Array(0);
  private sessionId: Uint8Array = new Uint8Array(0);
  private verdict: { ok: boolean; reason?: string } = { ok: false };
  private readonly range: VersionRange;

  constructor(
    private readonly io: HandshakeIo,
    private readonly config: ClientHandshakeConfig,
  ) {
    this.transcript = new Transcript(io.provider);
    this.range = versionRange(config.minVersion, config.maxVersion);
  }

  get done(): boolean {
    return this.state.kind === 'done' || (this.state.kind === 'tls12' && this.state.machine.done);
  }

  get acceptsChangeCipherSpec(): boolean {
    if (this.state.kind === 'tls12') return this.state.machine.acceptsChangeCipherSpec;
    return this.state.kind !== 'start' && this.state.kind !== 'done';
  }

  /** A change_cipher_spec arrived: meaningful in TLS 1.2 only (RFC 5246 §7.1). */
  onChangeCipherSpec(): void {
    if (this.state.kind === 'tls12') this.state.machine.onChangeCipherSpec();
  }

  private groups(): NamedGroup[] {
    const available = this.io.provider.groups;
    return (this.config.groups ?? CLIENT_GROUPS).filter((g) => available.includes(g));
  }

  start(): void {
    this.random = this.io.random(32);
    // RFC 8446 Appendix D.4: a non-empty session id asks for middlebox compatibility mode.
    if (this.config.middleboxCompat !== false && this.range.max >= TLS13) this.sessionId = this.io.random(32);
    const group = this.groups()[0];
    if (!group) throw new TlsFatal('internal_error', 'no key exchange group available');
    this.sendClientHello(group, undefined, false);
  }

  private sendClientHello(group: NamedGroup, cookie: Uint8Array | undefined, retried: boolean): void {
    const offer13 = this.range.max >= TLS13;
    const parts12 = this.range.min <= TLS12 ? clientHello12Parts(this.config) : undefined;
    const share = offer13
      ? this.io.provider.generateKeyShare(group, this.io.random(keyShareSeedLength(group)))
      : undefined;
    const suites = [
      ...(offer13 ? (this.config.suites ?? CIPHER_SUITES).map((s) => s.code) : []),
      ...(parts12?.suites ?? []),
    ];
    const exts: Extension[] = [];
    const name = this.config.serverName;
    // RFC 6066 §3: no IP literals in server_name.
    if (name && !isIP(name)) exts.push({ type: ExtensionType.server_name, data: encodeServerName(name) });
    const groups = offer13 ? this.groups() : tls12Groups(this.groups());
    exts.push({ type: ExtensionType.supported_groups, data: encodeU16List(groupCodes(groups), 2) });
    // TLS 1.2 peers may need PKCS#1 RSA (RFC 5246 §7.4.1.4.1); a TLS 1.3 CertificateVerify still may not use it.
    const schemes = schemeCodes(OUR_SCHEMES);
    for (const c of parts12?.schemes ?? []) if (!schemes.includes(c)) schemes.push(c);
    exts.push({ type: ExtensionType.signature_algorithms, data: encodeU16List(schemes, 2) });
    exts.push({ type: EXT.signature_algorithms_cert, data: encodeU16List(CERT_SCHEME_CODES, 2) });
    if (this.config.alpnProtocols?.length)
      exts.push({ type: ExtensionType.alpn, data: encodeAlpn(this.config.alpnProtocols) });
    if (share) {
      exts.push({
        type: ExtensionType.supported_versions,
        data: clientVersions(parts12 ? [TLS13, TLS12] : [TLS13]),
      });
      exts.push({
        type: ExtensionType.key_share,
        data: encodeClientKeyShares([{ group: GROUP_CODES[group], keyExchange: share.publicKey }]),
      });
    }
    if (cookie)
      exts.push({
        type: ExtensionType.cookie,
        data: Uint8Array.from([cookie.length >> 8, cookie.length & 0xff, ...cookie]),
      });
    if (parts12) exts.push(...parts12.extensions);
    const hello = encodeClientHello({
      legacyVersion: 0x0303,
      random: this.random,
      sessionId: this.sessionId,
      cipherSuites: suites,
      compressionMethods: Uint8Array.of(0),
      extensions: this.config.extensionHook ? this.config.extensionHook('ClientHello', exts) : exts,
    });
    this.transcript.add(hello);
    this.io.sendHandshake(hello);
    this.state = { kind: 'wait-server-hello', share, retried };
  }

  handle(msg: HandshakeMessage): void {
    const state = this.state;
    const expect = (type: number, name: string) => {
      if (msg.type !== type)
        throw new TlsFatal('unexpected_message', `expected ${name}, got handshake type ${msg.type}`);
    };
    switch (state.kind) {
      case 'tls12':
        return state.machine.handle(msg);
      case 'start':
      case 'done':
        throw new TlsFatal('unexpected_message', `handshake message ${msg.type} not expected now`);
      case 'wait-server-hello':
        expect(HandshakeType.server_hello, 'ServerHello');
        return this.onServerHello(msg, state);
      case 'wait-encrypted-extensions':
        expect(HandshakeType.encrypted_extensions, 'EncryptedExtensions');
        return this.onEncryptedExtensions(msg, state);
      case 'wait-certificate':
        if (msg.type === HandshakeType.certificate_request)
          throw new TlsFatal('handshake_failure', 'client certificates are not supported');
        expect(HandshakeType.certificate, 'Certificate');
        return this.onCertificate(msg, state);
      case 'wait-certificate-verify':
        expect(HandshakeType.certificate_verify, 'CertificateVerify');
        return this.onCertificateVerify(msg, state);
      case 'wait-finished':
        expect(HandshakeType.finished, 'Finished');
        return this.onFinished(msg, state);
    }
  }

  private onServerHello(
    msg: HandshakeMessage,
    state: Extract<ClientState, { kind: 'wait-server-hello' }>,
  ): void {
    const sh: ServerHello = decodeServerHello(msg.body);
    if (!findExtension(sh.extensions, ExtensionType.supported_versions) && this.range.min <= TLS12) {
      // RFC 8446 §4.1.3: no supported_versions means TLS 1.2 (or older, which we refuse).
      if (sh.legacyVersion !== TLS12)
        throw new TlsFatal('protocol_version', `server chose version 0x${sh.legacyVersion.toString(16)}`);
      // RFC 8446 §4.1.4: after a HelloRetryRequest the version is settled.
      if (state.retried)
        throw new TlsFatal('illegal_parameter', 'TLS 1.2 ServerHello after a HelloRetryRequest');
      const parts12 = clientHello12Parts(this.config);
      const machine = new Tls12ClientHandshake(this.io, this.config, this.transcript, {
        clientRandom: this.random,
        suites: parts12.suites,
        groups: tls12Groups(this.groups()),
        offered13: this.range.max >= TLS13,
      });
      this.state = { kind: 'tls12', machine };
      return machine.onServerHello(msg, sh);
    }
    if (!bytesEqual(sh.sessionId, this.sessionId))
      throw new TlsFatal('illegal_parameter', 'session id not echoed');
    if (sh.compressionMethod !== 0)
      throw new TlsFatal('illegal_parameter', 'compression method must be null');
    const versions = findExtension(sh.extensions, ExtensionType.supported_versions);
    // RFC 8446 §4.1.3: without supported_versions the server chose TLS 1.2 or older.
    if (!versions) throw new TlsFatal('protocol_version', 'server does not speak TLS 1.3');
    if (decodeU16(versions, 'supported_versions') !== TLS13 || !state.share)
      throw new TlsFatal('illegal_parameter', 'server selected a version we did not offer');
    const suite = suiteByCode(sh.cipherSuite);
    const offered = (this.config.suites ?? CIPHER_SUITES).map((s) => s.code);
    if (!suite || !offered.includes(suite.code))
      throw new TlsFatal('illegal_parameter', 'server selected a cipher suite we did not offer');
    for (const e of sh.extensions) {
      if (
        ![
          ExtensionType.supported_versions,
          ExtensionType.key_share,
          ExtensionType.cookie,
          ExtensionType.pre_shared_key,
        ].includes(e.type as never)
      ) {
        throw new TlsFatal('unsupported_extension', `unexpected extension ${e.type} in ServerHello`);
      }
    }
    const ourShare = state.share;
    if (isHelloRetryRequest(sh)) {
      if (state.retried) throw new TlsFatal('unexpected_message', 'a second HelloRetryRequest');
      const selected = findExtension(sh.extensions, ExtensionType.key_share);
      const group = selected ? groupByCode(decodeU16(selected, 'selected_group')) : undefined;
      // RFC 8446 §4.1.4: the group must be offered and not the one we already sent a share for.
      if (!group || !this.groups().includes(group) || group === ourShare.group) {
        throw new TlsFatal('illegal_parameter', 'HelloRetryRequest selected an unacceptable group');
      }
      const cookieExt = findExtension(sh.extensions, ExtensionType.cookie);
      this.transcript.replaceWithMessageHash(suite.hash);
      this.transcript.add(msg.raw);
      if (this.sessionId.length > 0) {
        this.io.sendChangeCipherSpec();
        this.retriedWithCcs = true;
      }
      this.sendClientHello(group, cookieExt ? decodeCookie(cookieExt) : undefined, true);
      return;
    }
    const shareExt = findExtension(sh.extensions, ExtensionType.key_share);
    if (!shareExt) throw new TlsFatal('missing_extension', 'ServerHello without key_share');
    const entry = decodeServerKeyShare(shareExt);
    if (entry.group !== GROUP_CODES[ourShare.group])
      throw new TlsFatal('illegal_parameter', 'server key share is for another group');
    if (entry.keyExchange.length !== keyShareLength(ourShare.group, 'server'))
      throw new TlsFatal('illegal_parameter', 'malformed server key share');
    let shared: Uint8Array;
    try {
      shared = ourShare.complete(entry.keyExchange);
    } catch (err) {
      if (err instanceof KeyExchangeError) throw new TlsFatal('illegal_parameter', err.message);
      throw err;
    }
    if (!state.retried) this.transcript.start(suite.hash);
    this.transcript.add(msg.raw);
    const schedule = new KeySchedule(this.io.provider, suite);
    const hs = schedule.handshakeTrafficSecrets(shared, this.transcript.current());
    this.io.keyLog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', this.random, hs.client);
    this.io.keyLog('SERVER_HANDSHAKE_TRAFFIC_SECRET', this.random, hs.server);
    this.io.setReadSecret(suite, hs.server);
    // From here on our records (alerts included) go under the handshake key (RFC 8446 §5.1).
    this.io.setWriteSecret(suite, hs.client);
    this.state = {
      kind: 'wait-encrypted-extensions',
      n: { suite, group: ourShare.group, schedule, serverHsSecret: hs.server, clientHsSecret: hs.client },
    };
  }

  private onEncryptedExtensions(
    msg: HandshakeMessage,
    state: Extract<ClientState, { kind: 'wait-encrypted-extensions' }>,
  ): void {
    const exts = decodeEncryptedExtensions(msg.body);
    let alpn: string | undefined;
    const alpnExt = findExtension(exts, ExtensionType.alpn);
    if (alpnExt) {
      const list = decodeAlpn(alpnExt);
      if (list.length !== 1 || !this.config.alpnProtocols?.includes(list[0]!))
        throw new TlsFatal('illegal_parameter', 'server chose an ALPN protocol we did not offer');
      alpn = list[0];
    }
    const rsl = findExtension(exts, EXT.record_size_limit);
    if (rsl) this.io.peerRecordSizeLimit?.(decodeU16(rsl, 'record_size_limit'));
    this.transcript.add(msg.raw);
    this.state = { kind: 'wait-certificate', n: state.n, alpn };
  }

  private onCertificate(
    msg: HandshakeMessage,
    state: Extract<ClientState, { kind: 'wait-certificate' }>,
  ): void {
    const cert = decodeCertificate(msg.body);
    if (cert.context.length !== 0)
      throw new TlsFatal('illegal_parameter', 'certificate_request_context must be empty');
    if (cert.entries.length === 0)
      throw new TlsFatal('decode_error', 'server sent an empty certificate list');
    this.transcript.add(msg.raw);
    this.state = {
      kind: 'wait-certificate-verify',
      n: state.n,
      alpn: state.alpn,
      chain: cert.entries.map((e) => e.data),
    };
  }

  private onCertificateVerify(
    msg: HandshakeMessage,
    state: Extract<ClientState, { kind: 'wait-certificate-verify' }>,
  ): void {
    const cv = decodeCertificateVerify(msg.body);
    const scheme = schemeFromCode(cv.scheme);
    if (!scheme || !OUR_SCHEMES.includes(scheme))
      throw new TlsFatal('illegal_parameter', `signature scheme 0x${cv.scheme.toString(16)} was not offered`);
    const content = certificateVerifyContent('server', this.transcript.current());
    let ok: boolean;
    try {
      ok = verifySignature(state.chain[0]!, scheme, content, cv.signature, {
        minRsaBits: this.config.minRsaBits,
      });
    } catch (err) {
      throw new TlsFatal('bad_certificate', `cannot read the server certificate: ${(err as Error).message}`);
    }
    if (!ok) throw new TlsFatal('decrypt_error', 'CertificateVerify signature does not verify');
    this.transcript.add(msg.raw);
    this.state = { kind: 'wait-finished', n: state.n, alpn: state.alpn, chain: state.chain, scheme };
  }

  private onFinished(msg: HandshakeMessage, state: Extract<ClientState, { kind: 'wait-finished' }>): void {
    const { n } = state;
    const expected = n.schedule.finishedVerifyData(n.serverHsSecret, this.transcript.current());
    if (!bytesEqual(expected, msg.body))
      throw new TlsFatal('decrypt_error', 'server Finished does not verify');
    this.transcript.add(msg.raw);
    // RFC 6125 name check and path validation; with rejectUnauthorized a failure is fatal.
    this.verdict = verifyServerChainSync(state.chain, {
      ca: this.config.ca,
      serverName: this.config.serverName,
      now: this.config.now?.(),
    });
    if (!this.verdict.ok && this.config.rejectUnauthorized) {
      const reason = this.verdict.reason ?? 'certificate rejected';
      const alert = /expired|not yet valid/i.test(reason)
        ? 'certificate_expired'
        : /trust|anchor|issuer|self.signed/i.test(reason)
          ? 'unknown_ca'
          : 'bad_certificate';
      throw new TlsFatal(alert, `server certificate rejected: ${reason}`);
    }
    const ap = n.schedule.applicationTrafficSecrets(this.transcript.current());
    this.io.keyLog('CLIENT_TRAFFIC_SECRET_0', this.random, ap.client);
    this.io.keyLog('SERVER_TRAFFIC_SECRET_0', this.random, ap.server);
    this.io.keyLog('EXPORTER_SECRET', this.random, ap.exporter);
    // RFC 8446 Appendix D.4: one change_cipher_spec before our first encrypted message.
    if (this.sessionId.length > 0 && !this.sentCcs) this.io.sendChangeCipherSpec();
    const finished = encodeHandshake(
      HandshakeType.finished,
      n.schedule.finishedVerifyData(n.clientHsSecret, this.transcript.current()),
    );
    this.transcript.add(finished);
    this.io.sendHandshake(finished);
    this.io.setWriteSecret(n.suite, ap.client);
    this.io.setReadSecret(n.suite, ap.server);
    this.state = { kind: 'done' };
    this.io.complete({
      cipherSuite: n.suite,
      group: n.group,
      signatureScheme: state.scheme,
      serverName: this.config.serverName,
      alpnProtocol: state.alpn,
      peerCertificates: state.chain,
      peerVerified: this.verdict.ok,
      verificationError: this.verdict.ok ? undefined : this.verdict.reason,
      schedule: n.schedule,
      exporterSecret: ap.exporter,
      clientRandom: this.random,
    });
  }

  private get sentCcs(): boolean {
    return this.retriedWithCcs;
  }
  private retriedWithCcs = false;
}
