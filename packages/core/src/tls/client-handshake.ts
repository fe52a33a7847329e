/**
 * The TLS 1.3 client handshake (RFC 8446 §2, §4): ClientHello out (again after a
 * HelloRetryRequest), the server flight in and checked — key share, certificate chain and
 * name (RFC 6125), CertificateVerify, Finished — then our Finished out. With a session cache,
 * tickets are kept and the newest offered for resumption (§2.2; client-resumption.ts): a
 * resumed handshake has no Certificate or CertificateVerify and keeps the original peer facts.
 */
import { keyShareSeedLength, type KeyShareSecret, type NamedGroup } from '../crypto/provider.js';
import type { SignatureScheme } from '../certs/signing.js';
import {
  expectMessage,
  internalError,
  invalidMessage,
  misbehaved,
  notNegotiated,
  unexpectedMessage,
} from './failures.js';
import { bytesEqual } from './codec.js';
import {
  CIPHER_SUITES,
  ExtensionType,
  HandshakeType,
  TLS12,
  TLS13,
  groupByCode,
  type CipherSuite,
} from './constants.js';
import {
  Transcript,
  messageHash,
  type HandshakeIo,
  type HandshakeFacts,
  type HandshakeMessage,
} from './handshake-common.js';
import {
  checkCertificateVerify,
  checkServerChain,
  checkServerHello13,
  completeKeyShare,
  readEncryptedExtensions,
  readServerCertificate,
} from './client-checks.js';
import { clientHelloExtensions } from './client-hello.js';
import {
  acceptedSession,
  fillBinder,
  pskExtension,
  sessionFromTicket,
  takeSession,
  type PskOffered,
} from './client-resumption.js';
import type { ClientSession } from './session-cache.js';
import { KeySchedule } from './key-schedule.js';
import {
  decodeCookie,
  decodeEncryptedExtensions,
  decodeNewSessionTicket,
  decodeServerHello,
  decodeU16,
  encodeClientHello,
  encodeHandshake,
  findExtension,
  isHelloRetryRequest,
  type ServerHello,
} from './messages.js';
import { CLIENT_GROUPS, EXT } from './negotiation.js';
import type { ClientHandshakeConfig } from './client-config.js';
import { Tls12ClientHandshake, clientHello12Parts, tls12Groups } from './tls12-client.js';
import { versionRange, type VersionRange } from './versions.js';

export type { ClientHandshakeConfig };

interface Negotiated {
  suite: CipherSuite;
  group: NamedGroup;
  schedule: KeySchedule;
  serverHsSecret: Uint8Array;
  clientHsSecret: Uint8Array;
  /** The session resumed: no certificate comes, its facts stand. */
  resumed?: ClientSession;
}

type ClientState =
  | { kind: 'start' }
  | { kind: 'wait-server-hello'; share: KeyShareSecret | undefined; retried: boolean }
  | { kind: 'wait-encrypted-extensions'; n: Negotiated }
  | { kind: 'wait-certificate'; n: Negotiated; alpn?: string }
  | { kind: 'wait-certificate-verify'; n: Negotiated; alpn?: string; chain: Uint8Array[] }
  | {
      kind: 'wait-finished';
      n: Negotiated;
      alpn?: string;
      chain: readonly Uint8Array[];
      scheme?: SignatureScheme;
    }
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
  /** The cached session we offer (taken from the cache at start), and whether the last hello carried it. */
  private offered: PskOffered | undefined;
  private pskSent: PskOffered | undefined;
  private firstHello: Uint8Array | undefined;
  /** Extension types of the ClientHello as sent (after the hook): what the server may answer. */
  private sentTypes = new Set<number>();
  private ccsReceived = false;
  /** After the handshake, with a session cache: what turns a NewSessionTicket into a session. */
  private ticketing:
    { schedule: KeySchedule; resumptionMasterSecret: Uint8Array; facts: HandshakeFacts } | undefined;

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
    if (this.state.kind === 'tls12') return this.state.machine.onChangeCipherSpec();
    // RFC 8446 §5, Appendix D.4: a compatible peer sends one; a second is not middlebox noise.
    if (this.ccsReceived) throw misbehaved('secondChangeCipherSpec', 'second change_cipher_spec');
    this.ccsReceived = true;
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
    if (!group) throw internalError('no key exchange group available');
    if (this.range.max >= TLS13) this.offered = takeSession(this.config, this.suites(), this.now());
    this.sendClientHello(group, undefined, false, []);
  }

  private now(): Date {
    return this.config.now?.() ?? new Date();
  }

  private suites(): readonly CipherSuite[] {
    return this.config.suites ?? CIPHER_SUITES;
  }

  /** `before`: after a HelloRetryRequest, message_hash(ClientHello1) and the HRR, for the binder. */
  private sendClientHello(
    group: NamedGroup,
    cookie: Uint8Array | undefined,
    retried: boolean,
    before: Uint8Array[],
  ): void {
    const offer13 = this.range.max >= TLS13;
    const parts12 = this.range.min <= TLS12 ? clientHello12Parts(this.config) : undefined;
    const share = offer13
      ? this.io.provider.generateKeyShare(group, this.io.random(keyShareSeedLength(group)))
      : undefined;
    const suites = [...(offer13 ? this.suites().map((s) => s.code) : []), ...(parts12?.suites ?? [])];
    const exts = clientHelloExtensions({
      serverName: this.config.serverName,
      alpnProtocols: this.config.alpnProtocols,
      groups: offer13 ? this.groups() : tls12Groups(this.groups()),
      share,
      cookie,
      parts12,
      pskModes: this.config.sessionCache !== undefined,
      preSharedKey: this.offered && pskExtension(this.offered, this.io.provider, this.now().getTime()),
    });
    const extensions = this.config.extensionHook ? this.config.extensionHook('ClientHello', exts) : exts;
    const pskAt = extensions.findIndex((e) => e.type === ExtensionType.pre_shared_key);
    if (pskAt >= 0 && (pskAt !== extensions.length - 1 || !this.offered))
      throw internalError('pre_shared_key must be ours and the last extension');
    const hello = encodeClientHello({
      legacyVersion: 0x0303,
      random: this.random,
      sessionId: this.sessionId,
      cipherSuites: suites,
      compressionMethods: Uint8Array.of(0),
      extensions,
    });
    this.pskSent = pskAt >= 0 ? this.offered : undefined;
    if (this.pskSent) fillBinder(hello, this.io.provider, this.pskSent, before);
    this.sentTypes = new Set(extensions.map((e) => e.type));
    this.firstHello ??= hello;
    this.transcript.add(hello);
    this.io.sendHandshake(hello);
    this.state = { kind: 'wait-server-hello', share, retried };
  }

  handle(msg: HandshakeMessage): void {
    const state = this.state;
    const expect = (type: number, name: string) => expectMessage(msg, type, name);
    switch (state.kind) {
      case 'tls12':
        return state.machine.handle(msg);
      case 'start':
      case 'done':
        throw unexpectedMessage(`handshake message ${msg.type} not expected now`);
      case 'wait-server-hello':
        expect(HandshakeType.server_hello, 'ServerHello');
        return this.onServerHello(msg, state);
      case 'wait-encrypted-extensions':
        expect(HandshakeType.encrypted_extensions, 'EncryptedExtensions');
        return this.onEncryptedExtensions(msg, state);
      case 'wait-certificate':
        if (msg.type === HandshakeType.certificate_request)
          throw notNegotiated('clientCertificatesUnsupported', 'client certificates are not supported');
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
        throw misbehaved('serverLacksTls13', `server chose version 0x${sh.legacyVersion.toString(16)}`);
      // RFC 8446 §4.1.4: after a HelloRetryRequest the version is settled.
      if (state.retried)
        throw misbehaved('badHelloRetryRequest', 'TLS 1.2 ServerHello after a HelloRetryRequest');
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
    const suite = checkServerHello13(sh, this.sessionId, state.share !== undefined, this.suites());
    const ourShare = state.share!;
    if (isHelloRetryRequest(sh)) {
      if (state.retried) throw misbehaved('secondHelloRetryRequest', 'a second HelloRetryRequest');
      if (findExtension(sh.extensions, ExtensionType.pre_shared_key))
        throw misbehaved('badHelloRetryRequest', 'pre_shared_key in a HelloRetryRequest');
      const selected = findExtension(sh.extensions, ExtensionType.key_share);
      const group = selected ? groupByCode(decodeU16(selected, 'selected_group')) : undefined;
      // RFC 8446 §4.1.4: the group must be offered and not the one we already sent a share for.
      if (!group || !this.groups().includes(group) || group === ourShare.group) {
        throw misbehaved('badHelloRetryRequest', 'HelloRetryRequest selected an unacceptable group');
      }
      const cookieExt = findExtension(sh.extensions, ExtensionType.cookie);
      this.transcript.replaceWithMessageHash(suite.hash);
      this.transcript.add(msg.raw);
      if (this.sessionId.length > 0) {
        this.io.sendChangeCipherSpec();
        this.retriedWithCcs = true;
      }
      // RFC 8446 §4.1.4: a PSK whose hash is not the chosen suite's is dropped from ClientHello2.
      if (this.offered && this.offered.suite.hash !== suite.hash) this.offered = undefined;
      const before = [messageHash(this.io.provider, suite.hash, this.firstHello!), msg.raw];
      this.sendClientHello(group, cookieExt ? decodeCookie(cookieExt) : undefined, true, before);
      return;
    }
    const resumed = acceptedSession(sh.extensions, this.pskSent, suite);
    const shared = completeKeyShare(sh, ourShare);
    if (!state.retried) this.transcript.start(suite.hash);
    this.transcript.add(msg.raw);
    const schedule = new KeySchedule(this.io.provider, suite);
    const hs = schedule.handshakeTrafficSecrets(shared, this.transcript.current(), resumed?.psk);
    this.io.keyLog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', this.random, hs.client);
    this.io.keyLog('SERVER_HANDSHAKE_TRAFFIC_SECRET', this.random, hs.server);
    this.io.setReadSecret(suite, hs.server);
    // From here on our records (alerts included) go under the handshake key (RFC 8446 §5.1).
    this.io.setWriteSecret(suite, hs.client);
    this.state = {
      kind: 'wait-encrypted-extensions',
      n: {
        suite,
        group: ourShare.group,
        schedule,
        serverHsSecret: hs.server,
        clientHsSecret: hs.client,
        resumed,
      },
    };
  }

  private onEncryptedExtensions(
    msg: HandshakeMessage,
    state: Extract<ClientState, { kind: 'wait-encrypted-extensions' }>,
  ): void {
    const exts = decodeEncryptedExtensions(msg.body);
    const alpn = readEncryptedExtensions(exts, this.config.alpnProtocols, this.sentTypes);
    const rsl = findExtension(exts, EXT.record_size_limit);
    if (rsl) this.io.peerRecordSizeLimit?.(decodeU16(rsl, 'record_size_limit'));
    this.transcript.add(msg.raw);
    const resumed = state.n.resumed;
    // RFC 8446 §2.2: a PSK handshake has no Certificate and CertificateVerify.
    if (resumed) {
      const chain = resumed.peerCertificates;
      const scheme = resumed.signatureScheme as SignatureScheme | undefined;
      this.state = { kind: 'wait-finished', n: state.n, alpn, chain, scheme };
    } else this.state = { kind: 'wait-certificate', n: state.n, alpn };
  }

  private onCertificate(
    msg: HandshakeMessage,
    state: Extract<ClientState, { kind: 'wait-certificate' }>,
  ): void {
    const chain = readServerCertificate(msg.body);
    this.transcript.add(msg.raw);
    this.state = { kind: 'wait-certificate-verify', n: state.n, alpn: state.alpn, chain };
  }

  private onCertificateVerify(
    msg: HandshakeMessage,
    state: Extract<ClientState, { kind: 'wait-certificate-verify' }>,
  ): void {
    const scheme = checkCertificateVerify(
      msg.body,
      state.chain[0]!,
      this.transcript.current(),
      this.config.minRsaBits,
    );
    this.transcript.add(msg.raw);
    this.state = { kind: 'wait-finished', n: state.n, alpn: state.alpn, chain: state.chain, scheme };
  }

  private onFinished(msg: HandshakeMessage, state: Extract<ClientState, { kind: 'wait-finished' }>): void {
    const { n } = state;
    const expected = n.schedule.finishedVerifyData(n.serverHsSecret, this.transcript.current());
    // RFC 8446 §4.4.4: verify_data is Hash.length bytes; another length is malformed, not forged.
    if (msg.body.length !== expected.length)
      throw invalidMessage(`server Finished of ${msg.body.length} bytes`);
    if (!bytesEqual(expected, msg.body))
      throw misbehaved('finishedMismatch', 'server Finished does not verify');
    this.transcript.add(msg.raw);
    // RFC 6125 name check and path validation; with rejectUnauthorized a failure is fatal.
    // Resumed: the original session's verdict (its chain was checked again before we offered it).
    this.verdict = n.resumed
      ? { ok: n.resumed.peerVerified, reason: n.resumed.verificationError }
      : checkServerChain(state.chain, { ...this.config, now: this.config.now?.() });
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
    const facts: HandshakeFacts = {
      cipherSuite: n.suite,
      group: n.group,
      signatureScheme: state.scheme,
      serverName: this.config.serverName,
      alpnProtocol: state.alpn,
      peerCertificates: state.chain,
      peerVerified: this.verdict.ok,
      verificationError: this.verdict.ok ? undefined : this.verdict.reason,
      resumed: n.resumed !== undefined,
    };
    if (this.config.sessionCache && this.config.serverName) {
      const resumptionMasterSecret = n.schedule.resumptionMasterSecret(this.transcript.current());
      this.ticketing = { schedule: n.schedule, resumptionMasterSecret, facts };
    }
    this.io.complete({
      ...facts,
      schedule: n.schedule,
      exporterSecret: ap.exporter,
      clientRandom: this.random,
    });
  }

  /** RFC 8446 §4.6.1: a NewSessionTicket after the handshake; kept when we have a session cache. */
  onNewSessionTicket(msg: HandshakeMessage): void {
    const t = this.ticketing;
    if (!t) {
      decodeNewSessionTicket(msg.body); // still checked for form
      return;
    }
    const session = sessionFromTicket(msg.body, {
      ...t,
      serverName: this.config.serverName!,
      now: this.now().getTime(),
    });
    if (session) this.config.sessionCache!.put(session);
  }

  private get sentCcs(): boolean {
    return this.retriedWithCcs;
  }
  private retriedWithCcs = false;
}
