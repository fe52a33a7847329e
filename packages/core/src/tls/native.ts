/**
 * `native` engine: node:tls (OpenSSL) behind the TlsEngine interface. The reference our own
 * engine is tested and benchmarked against, and the engine used until `ts` is selected.
 */
import * as tls from 'node:tls';
import { X509Certificate, constants as cryptoConstants } from 'node:crypto';
import type { Duplex } from 'node:stream';
import type {
  TlsClientOptions,
  TlsEngine,
  TlsServerOptions,
  TlsSessionInfo,
  TlsStream,
  TlsVersion,
} from './engine.js';
import { TlsAlertError, throwIfDestroyed } from './engine.js';
import { DEFAULT_TICKET_LIFETIME_SECONDS } from './server-psk.js';
import type { TlsSessionCache } from './session-cache.js';

const DEFAULT_HANDSHAKE_TIMEOUT_MS = 30_000;
const swallow = (): void => undefined;

function peerChain(socket: tls.TLSSocket): Uint8Array[] {
  const chain: Uint8Array[] = [];
  let cert = socket.getPeerCertificate(true) as tls.DetailedPeerCertificate | undefined;
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new Uint8Array(cert.raw));
    cert = cert.issuerCertificate;
  }
  return chain;
}

function sessionOf(socket: tls.TLSSocket, serverName: string | undefined): TlsSessionInfo {
  const cipher = socket.getCipher();
  const ephemeral = socket.getEphemeralKeyInfo?.() as { name?: string } | null;
  const alpn = socket.alpnProtocol;
  return {
    engine: 'native',
    version: socket.getProtocol() as TlsVersion,
    cipherSuite: cipher.standardName ?? cipher.name,
    group: ephemeral && ephemeral.name ? ephemeral.name.toLowerCase().replace('x25519', 'x25519') : undefined,
    serverName,
    alpnProtocol: typeof alpn === 'string' ? alpn : undefined,
    peerCertificates: peerChain(socket),
    peerVerified: socket.authorized,
    verificationError: socket.authorizationError ? String(socket.authorizationError) : undefined,
    resumed: socket.isSessionReused(),
  };
}

/**
 * Hands the established socket over, or rejects: node:tls may have failed on bytes read with the
 * peer's Finished before the caller could attach a listener. The socket keeps an error path for
 * its whole life (issue 19): an 'error' nobody listens to would end the process.
 */
function asTlsStream(socket: tls.TLSSocket, session: TlsSessionInfo): TlsStream {
  throwIfDestroyed(socket);
  Object.defineProperty(socket, 'session', { value: session, enumerable: true });
  return socket as unknown as TlsStream;
}

/**
 * Waits for the handshake. A client waits for 'secureConnect', which node:tls emits only after
 * the peer's certificate was verified; its 'secure' event comes before that check.
 */
function handshake(socket: tls.TLSSocket, timeoutMs: number, role: 'server' | 'client'): Promise<void> {
  const done = role === 'server' ? 'secure' : 'secureConnect';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanup();
      socket.destroy();
      reject(new TlsAlertError('handshake_timeout', `TLS handshake not complete after ${timeoutMs} ms`));
    }, timeoutMs);
    const onSecure = () => {
      cleanup();
      resolve();
    };
    const onError = (err: Error) => {
      cleanup();
      socket.destroy();
      reject(new TlsAlertError('handshake_failure', err.message));
    };
    const onClose = () => {
      cleanup();
      reject(new TlsAlertError('handshake_failure', 'connection closed during the TLS handshake'));
    };
    const cleanup = () => {
      clearTimeout(timer);
      socket.off(done, onSecure);
      socket.off('error', onError);
      socket.off('close', onClose);
    };
    socket.once(done, onSecure);
    socket.once('error', onError);
    socket.once('close', onClose);
  });
}

export class NativeTlsEngine implements TlsEngine {
  readonly name = 'native' as const;
  /** Per certificate and settings: OpenSSL keeps its ticket keys in the context, so one context
   * per certificate is what lets a later connection resume. */
  private readonly contexts = new WeakMap<object, Map<string, tls.SecureContext>>();

  private contextFor(key: { certificateChainPem: string; privateKeyPem: string }, options: TlsServerOptions) {
    const minVersion = options.minVersion ?? 'TLSv1.2';
    const maxVersion = options.maxVersion ?? 'TLSv1.3';
    const tickets = options.sessionTickets;
    const lifetime = tickets === false ? 0 : (tickets?.lifetimeSeconds ?? DEFAULT_TICKET_LIFETIME_SECONDS);
    const settings = `${minVersion}|${maxVersion}|${lifetime}`;
    let byKey = this.contexts.get(key);
    if (!byKey) this.contexts.set(key, (byKey = new Map()));
    let ctx = byKey.get(settings);
    if (!ctx) {
      ctx = tls.createSecureContext({
        cert: key.certificateChainPem,
        key: key.privateKeyPem,
        minVersion,
        maxVersion,
        // sessionTickets: false issues no tickets (SSL_OP_NO_TICKET; node keeps no server-side
        // session cache for a bare TLSSocket, so nothing resumes). Otherwise OpenSSL's stateless
        // tickets under this context's random keys, valid `lifetimeSeconds`.
        ...(tickets === false
          ? { secureOptions: cryptoConstants.SSL_OP_NO_TICKET }
          : { sessionTimeout: lifetime }),
      });
      byKey.set(settings, ctx);
    }
    return ctx;
  }

  async accept(socket: Duplex, options: TlsServerOptions): Promise<TlsStream> {
    const defaultKey = options.certificates.select(undefined);
    let serverName: string | undefined;
    const tlsSocket = new tls.TLSSocket(
      socket as never,
      {
        isServer: true,
        secureContext: this.contextFor(defaultKey, options),
        ALPNProtocols: options.alpnProtocols ? [...options.alpnProtocols] : undefined,
        SNICallback: (name, cb) => {
          serverName = name;
          try {
            cb(null, this.contextFor(options.certificates.select(name), options));
          } catch (err) {
            cb(err as Error);
          }
        },
      } as tls.TLSSocketOptions,
    );
    tlsSocket.on('error', swallow);
    if (options.keyLog)
      tlsSocket.on('keylog', (line: Buffer) => options.keyLog!(line.toString('latin1').trimEnd()));
    await handshake(tlsSocket, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, 'server');
    // A resumed handshake skips SNICallback; the socket still knows the name the client sent.
    const sni = serverName ?? (tlsSocket.servername || undefined);
    return asTlsStream(tlsSocket, sessionOf(tlsSocket, sni));
  }

  async connect(socket: Duplex, options: TlsClientOptions): Promise<TlsStream> {
    const ca =
      options.ca === undefined ? undefined : typeof options.ca === 'string' ? [options.ca] : [...options.ca];
    const rejectUnauthorized = options.rejectUnauthorized ?? true;
    const cache = options.serverName ? options.sessionCache : undefined;
    const offered = cache && takeNativeSession(cache, options.serverName!, rejectUnauthorized);
    const tlsSocket = tls.connect({
      session: offered ? Buffer.from(offered) : undefined,
      socket: socket as never,
      servername: options.serverName,
      ca,
      rejectUnauthorized,
      ALPNProtocols: options.alpnProtocols ? [...options.alpnProtocols] : undefined,
      minVersion: options.minVersion ?? 'TLSv1.2',
      maxVersion: options.maxVersion ?? 'TLSv1.3',
    });
    tlsSocket.on('error', swallow);
    if (options.keyLog)
      tlsSocket.on('keylog', (line: Buffer) => options.keyLog!(line.toString('latin1').trimEnd()));
    const established = cache && keepNativeSessions(tlsSocket, cache, options.serverName!);
    await handshake(tlsSocket, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS, 'client');
    const stream = asTlsStream(tlsSocket, sessionOf(tlsSocket, options.serverName));
    established?.(stream.session);
    return stream;
  }
}

/**
 * The newest node:tls session kept for `serverName`. Sessions of the `ts` engine in the same
 * cache are passed over (taking is single-use either way). As with the `ts` engine, a session
 * whose handshake did not verify is offered only when verification is not required.
 */
function takeNativeSession(
  cache: TlsSessionCache,
  serverName: string,
  rejectUnauthorized: boolean,
): Uint8Array | undefined {
  const session = cache.take(serverName, Date.now());
  if (!session?.nativeSession) return undefined;
  if (rejectUnauthorized && !session.peerVerified) return undefined;
  return session.nativeSession;
}

/**
 * Each 'session' event is one resumable session: in TLS 1.2 it comes during the handshake, in
 * TLS 1.3 with each NewSessionTicket after it. Kept once the handshake's facts are known.
 */
function keepNativeSessions(
  socket: tls.TLSSocket,
  cache: TlsSessionCache,
  serverName: string,
): (facts: TlsSessionInfo) => void {
  let facts: TlsSessionInfo | undefined;
  const early: Buffer[] = [];
  const keep = (session: Buffer, f: TlsSessionInfo) =>
    cache.put({
      serverName,
      ticket: new Uint8Array(0),
      psk: new Uint8Array(0),
      cipherSuite: 0,
      ageAdd: 0,
      lifetimeSeconds: DEFAULT_TICKET_LIFETIME_SECONDS,
      receivedAt: Date.now(),
      alpnProtocol: f.alpnProtocol,
      peerCertificates: f.peerCertificates,
      peerVerified: f.peerVerified,
      verificationError: f.verificationError,
      nativeSession: new Uint8Array(session),
    });
  socket.on('session', (session: Buffer) => (facts ? keep(session, facts) : early.push(session)));
  return (f) => {
    facts = f;
    for (const s of early.splice(0)) keep(s, f);
  };
}

/** Parse a DER certificate for display (subject, validity) in logs and tests. */
export function describeCertificate(der: Uint8Array): string {
  return new X509Certificate(der).subject;
}
