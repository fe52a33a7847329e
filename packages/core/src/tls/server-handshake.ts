/**
 * The TLS 1.3 server handshake (RFC 8446 §2, §4) as a state machine: ClientHello in, the
 * server flight out (with a HelloRetryRequest round when no acceptable key share came), the
 * client Finished in, NewSessionTickets out. Resumption with our own tickets in psk_dhe_ke mode
 * (§2.2; server-psk.ts), which drops Certificate and CertificateVerify. No client certificates,
 * no 0-RTT: early data is skipped (§4.2.10).
 */
import { keyShareLength, keyShareSeedLength, KeyExchangeError, type NamedGroup } from '../crypto/provider.js';
import { SIGNATURE_SCHEME_CODES, type SignatureScheme } from '../certs/signing.js';
import type { CertificateSource } from './engine.js';
import { expectMessage, invalidMessage, misbehaved, notNegotiated, unexpectedMessage } from './failures.js';
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
  messageHash,
  type ExtensionHook,
  type HandshakeIo,
  type HandshakeMessage,
} from './handshake-common.js';
import { KeySchedule } from './key-schedule.js';
import {
  decodeClientHello,
  encodeAlpn,
  encodeCertificate,
  encodeCertificateVerify,
  encodeEncryptedExtensions,
  encodeHandshake,
  encodeServerHello,
  encodeServerKeyShare,
  u16Bytes,
  type ClientHello,
  type Extension,
} from './messages.js';
import { EXT, SERVER_GROUP_PREFERENCE } from './negotiation.js';
import type { TlsVersion } from './engine.js';
import {
  checkSecondHello,
  chooseAlpn,
  chooseKeyShare,
  readClientHello13,
  readRecordSizeLimit,
  serverAuthentication,
} from './server-client-hello.js';
import {
  chooseTicketAndSuite,
  newSessionTickets,
  verifyBinder,
  type SessionTicketConfig,
} from './server-psk.js';
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
  /** TLS 1.3 session tickets and resumption (default on, one ticket); `false`: neither. */
  sessionTickets?: false | SessionTicketConfig;
  /** Clock for ticket issue times and ages (tests). */
  now?: () => Date;
}

type ServerState =
  | { kind: 'wait-client-hello' }
  | {
      kind: 'wait-client-hello-2';
      first: ClientHello;
      suite: CipherSuite;
      group: NamedGroup;
      cookie: Uint8Array;
      /** message_hash(ClientHello1) and the HelloRetryRequest: what a binder in ClientHello2 covers first. */
      before: Uint8Array[];
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
  /** Absent when resumed: no CertificateVerify. */
  scheme?: SignatureScheme;
  serverName?: string;
  alpn?: string;
  clientRandom: Uint8Array;
  resumed: boolean;
  /** The client offered psk_dhe_ke, so tickets are of use to it (RFC 8446 §4.2.9). */
  wantsTickets: boolean;
}

export class ServerHandshake {
  private state: ServerState = { kind: 'wait-client-hello' };
  private readonly transcript: Transcript;
  private ccsSent = false;
  private ccsReceived = false;
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
    if (this.state.kind === 'tls12') return this.state.machine.onChangeCipherSpec();
    // RFC 8446 §5, Appendix D.4: a compatible peer sends one; a second is not middlebox noise.
    if (this.ccsReceived) throw misbehaved('secondChangeCipherSpec', 'second change_cipher_spec');
    this.ccsReceived = true;
  }

  handle(msg: HandshakeMessage): void {
    const state = this.state;
    switch (state.kind) {
      case 'tls12':
        return state.machine.handle(msg);
      case 'wait-client-hello':
        expectMessage(msg, HandshakeType.client_hello, 'ClientHello');
        return this.onClientHello(msg, undefined);
      case 'wait-client-hello-2':
        expectMessage(msg, HandshakeType.client_hello, 'ClientHello');
        return this.onClientHello(msg, state);
      case 'wait-finished':
        expectMessage(msg, HandshakeType.finished, 'Finished');
        return this.onFinished(msg, state);
      case 'done':
        throw unexpectedMessage(`handshake message ${msg.type} after the handshake`);
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
    const recordSizeLimit = readRecordSizeLimit(ch);
    if (!retry && chooseServerVersion(ch, this.range) !== TLS13) {
      const machine = new Tls12ServerHandshake(this.io, this.config, this.range);
      this.state = { kind: 'tls12', machine };
      return machine.onClientHello(msg, ch);
    }
    const read = readClientHello13(ch);
    const { clientGroups, shares, serverName, offer, earlyData } = read;
    if (retry) {
      this.io.ignoreEarlyData?.(false);
      checkSecondHello(ch, read, retry.first, retry.cookie, retry.group);
    }

    const { ticket, suite } = chooseTicketAndSuite(this.config.sessionTickets, this.io.provider, offer, {
      now: this.now(),
      serverName,
      clientSuites: ch.cipherSuites,
      settled: retry?.suite,
    });
    if (!suite) throw notNegotiated('noCommonCipherSuite', 'no cipher suite in common');

    const ours = this.groups();
    const chosen = chooseKeyShare(ours, shares);
    if (!chosen) {
      if (retry) throw misbehaved('secondHelloChanged', 'no usable key share after HelloRetryRequest');
      const g = ours.find((x) => clientGroups.includes(GROUP_CODES[x]));
      if (!g) throw notNegotiated('noCommonGroup', 'no key exchange group in common');
      return this.helloRetry(msg, ch, suite, g, earlyData);
    }
    if (chosen.share.length !== keyShareLength(chosen.group, 'client'))
      throw misbehaved('badKeyShare', `malformed ${chosen.group} key share`);

    const schedule = new KeySchedule(this.io.provider, suite);
    // RFC 8446 §4.2.11: the binder must verify before the PSK is accepted; a mismatch is fatal.
    if (ticket) verifyBinder(schedule, ticket, offer.psks!, retry?.before ?? [], msg.raw);
    const auth = ticket
      ? undefined
      : serverAuthentication(this.config.certificates, serverName, read.clientSchemes);

    const alpn = chooseAlpn(ch, this.config.alpnProtocols);

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
      if (err instanceof KeyExchangeError) throw misbehaved('badKeyShare', err.message);
      throw err;
    }

    // ServerHello (RFC 8446 §4.1.3), with the selected identity when resuming (§4.2.11).
    const shExtensions: Extension[] = [
      { type: ExtensionType.supported_versions, data: u16Bytes(TLS13) },
      {
        type: ExtensionType.key_share,
        data: encodeServerKeyShare({ group: GROUP_CODES[chosen.group], keyExchange: response.publicKey }),
      },
    ];
    if (ticket) shExtensions.push({ type: ExtensionType.pre_shared_key, data: u16Bytes(ticket.index) });
    const serverHello = encodeServerHello({
      legacyVersion: 0x0303,
      random: serverRandom,
      sessionId: ch.sessionId,
      cipherSuite: suite.code,
      compressionMethod: 0,
      extensions: this.hook('ServerHello', shExtensions),
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

    const hs = schedule.handshakeTrafficSecrets(
      response.sharedSecret,
      this.transcript.current(),
      ticket?.state.psk,
    );
    this.io.keyLog('CLIENT_HANDSHAKE_TRAFFIC_SECRET', ch.random, hs.client);
    this.io.keyLog('SERVER_HANDSHAKE_TRAFFIC_SECRET', ch.random, hs.server);
    this.io.setWriteSecret(suite, hs.server);
    this.io.setReadSecret(suite, hs.client);
    // RFC 8446 §4.2.10: we never accept 0-RTT; the client's early records are skipped.
    if (earlyData) this.io.ignoreEarlyData?.(true);

    // EncryptedExtensions (RFC 8446 §4.3.1), never with early_data.
    const ee: Extension[] = [];
    if (serverName !== undefined) ee.push({ type: ExtensionType.server_name, data: new Uint8Array(0) });
    if (alpn) ee.push({ type: ExtensionType.alpn, data: encodeAlpn([alpn]) });
    if (recordSizeLimit !== undefined) {
      // RFC 8449 §4: our limit in TLS 1.3 counts the content type byte.
      ee.push({ type: EXT.record_size_limit, data: u16Bytes(16385) });
      this.io.peerRecordSizeLimit?.(recordSizeLimit);
    }
    this.sendAndHash(encodeEncryptedExtensions(this.hook('EncryptedExtensions', ee)));
    // RFC 8446 §2.2: a resumed handshake authenticates with the PSK, without a certificate.
    if (auth) {
      this.sendAndHash(
        encodeCertificate({
          context: new Uint8Array(0),
          entries: auth.signer.chain.map((data) => ({ data, extensions: [] })),
        }),
      );
      const content = certificateVerifyContent('server', this.transcript.current());
      const signature = auth.signer.key.sign(auth.scheme, content);
      this.sendAndHash(encodeCertificateVerify(SIGNATURE_SCHEME_CODES[auth.scheme], signature));
    }
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
      facts: {
        suite,
        group: chosen.group,
        scheme: auth?.scheme,
        serverName,
        alpn,
        clientRandom: ch.random,
        resumed: ticket !== undefined,
        wantsTickets: offer.dhe,
      },
    };
  }

  private now(): number {
    return (this.config.now?.() ?? new Date()).getTime();
  }

  private helloRetry(
    msg: HandshakeMessage,
    ch: ClientHello,
    suite: CipherSuite,
    group: NamedGroup,
    earlyData: boolean,
  ): void {
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
    // RFC 8446 §4.2.10: 0-RTT records sent with ClientHello1 are skipped until ClientHello2.
    if (earlyData) this.io.ignoreEarlyData?.(true);
    const before = [messageHash(this.io.provider, suite.hash, msg.raw), hrr];
    this.state = { kind: 'wait-client-hello-2', first: ch, suite, group, cookie, before };
  }

  private onFinished(msg: HandshakeMessage, state: Extract<ServerState, { kind: 'wait-finished' }>): void {
    const expected = state.schedule.finishedVerifyData(state.clientHsSecret, this.transcript.current());
    // RFC 8446 §4.4.4: verify_data is Hash.length bytes; another length is malformed, not forged.
    if (msg.body.length !== expected.length)
      throw invalidMessage(`client Finished of ${msg.body.length} bytes`);
    if (!bytesEqual(expected, msg.body))
      throw misbehaved('finishedMismatch', 'client Finished does not verify');
    this.transcript.add(msg.raw);
    this.io.setReadSecret(state.facts.suite, state.clientApSecret);
    const f = state.facts;
    const tickets = this.config.sessionTickets;
    if (tickets !== false && f.wantsTickets && (tickets?.count ?? 1) > 0) {
      // RFC 8446 §4.6.1: under our application key, before any application data.
      const issued = newSessionTickets({
        provider: this.io.provider,
        schedule: state.schedule,
        resumptionMasterSecret: state.schedule.resumptionMasterSecret(this.transcript.current()),
        suite: f.suite,
        serverName: f.serverName,
        alpn: f.alpn,
        now: this.now(),
        random: (n) => this.io.random(n),
        config: tickets ?? {},
        hook: this.config.extensionHook,
      });
      for (const m of issued) this.io.sendHandshake(m);
    }
    this.state = { kind: 'done' };
    this.io.complete({
      cipherSuite: f.suite,
      group: f.group,
      signatureScheme: f.scheme,
      serverName: f.serverName,
      alpnProtocol: f.alpn,
      peerCertificates: [],
      peerVerified: false,
      resumed: f.resumed,
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
