/**
 * The contract between the listeners (packages/server) and the protocol packages: one handler
 * per listener, given each accepted TCP connection.
 */
import type { Socket } from 'node:net';
import type { Logger } from './logging.js';
import type { ConnectionLimitOptions } from './server/limits.js';
import type { TlsEngine, TlsServerOptions } from './tls/engine.js';

export interface TlsSettings {
  engine: TlsEngine;
  /** Certificates (SNI-selected), ALPN, timeouts, key log. */
  server: TlsServerOptions;
}

/** Settings every protocol server takes, its connection limits among them. */
export interface CommonServerOptions extends ConnectionLimitOptions {
  /** Greeting and Received-header name. */
  hostname: string;
  tls: TlsSettings;
  /** Allow authentication before TLS (test rigs only). Default false. */
  allowInsecureAuth?: boolean;
  logger?: Logger;
}

export interface ConnectionOptions {
  /** Implicit TLS (RFC 8314): run the handshake before the greeting. */
  implicitTls: boolean;
  /**
   * The listener's name: connection caps count per listener. Default: one count for the
   * plaintext listener and one for the implicit-TLS listener of the handler.
   */
  listener?: string;
}

export interface ProtocolHandler {
  /** Serve one accepted connection until it ends. Never rejects; errors are logged. */
  handleConnection(socket: Socket, options: ConnectionOptions): Promise<void>;
  /**
   * Graceful stop: sessions finish the command in progress, say goodbye where the protocol
   * has a word for it, and close; whatever is left after `deadlineMs` is dropped.
   */
  shutdown(deadlineMs: number): Promise<void>;
}
