/**
 * A TLS 1.3 client that sends its Finished and, in the same TCP write, one hostile record
 * (issue 19 item 1): the server completes its handshake and meets a fatal error in one socket
 * read. Built on our own sans-I/O `TlsConnection` (client role), so the Finished flight can be
 * held back and the hostile bytes appended; records after the Finished are protected under the
 * client's application traffic keys, as a real peer's would be (RFC 8446 §7.1).
 */
import { TlsConnection, TsTlsEngine } from '@postern/core';
import { RawClient, sleep } from './client.js';
import { askStartTls, readGreeting, type ListenerInfo } from './listeners.js';

export type HostileRecord =
  'change-cipher-spec' | 'key-update-2' | 'key-update-empty' | 'over-long-record' | 'fatal-alert';

export const HOSTILE_RECORDS: readonly HostileRecord[] = [
  'change-cipher-spec',
  'key-update-2',
  'key-update-empty',
  'over-long-record',
  'fatal-alert',
];

const CONTENT_HANDSHAKE = 22;
const CONTENT_APPLICATION_DATA = 23;
const CONTENT_ALERT = 21;
const KEY_UPDATE = 24;
/** RFC 8446 §5.2: the largest TLSCiphertext.length allowed (2^14 + 256). */
const MAX_CIPHERTEXT = 2 ** 14 + 256;
/** AES-GCM / ChaCha20-Poly1305 tag plus the inner content type byte. */
const SEAL_OVERHEAD = 16 + 1;

/** The record layer inside a TlsConnection: reached into to seal what no honest client sends. */
interface Records {
  maxFragment: number;
  protect(type: number, content: Uint8Array, out: Uint8Array[]): void;
}

function hostileBytes(conn: TlsConnection, kind: HostileRecord): Uint8Array[] {
  const records = (conn as unknown as { records: Records }).records;
  const out: Uint8Array[] = [];
  switch (kind) {
    case 'change-cipher-spec':
      // RFC 8446 §5: a ChangeCipherSpec after the handshake is unexpected_message.
      out.push(Uint8Array.of(20, 3, 3, 0, 1, 1));
      break;
    case 'key-update-2':
      // RFC 8446 §4.6.3: request_update is 0 or 1; anything else is illegal_parameter.
      records.protect(CONTENT_HANDSHAKE, Uint8Array.of(KEY_UPDATE, 0, 0, 1, 2), out);
      break;
    case 'key-update-empty':
      // A KeyUpdate without its one-byte body: decode_error.
      records.protect(CONTENT_HANDSHAKE, Uint8Array.of(KEY_UPDATE, 0, 0, 0), out);
      break;
    case 'over-long-record': {
      // 2^14 + 256 bytes of ciphertext whose plaintext is over 2^14: record_overflow (§5.2, §5.4).
      const saved = records.maxFragment;
      records.maxFragment = MAX_CIPHERTEXT;
      records.protect(
        CONTENT_APPLICATION_DATA,
        new Uint8Array(MAX_CIPHERTEXT - SEAL_OVERHEAD).fill(0x41),
        out,
      );
      records.maxFragment = saved;
      break;
    }
    case 'fatal-alert':
      // The same bug class at its simplest: any fatal alert read together with the Finished.
      records.protect(CONTENT_ALERT, Uint8Array.of(2, 80 /* internal_error */), out);
      break;
  }
  return out;
}

export interface InjectionOutcome {
  /** Whether our handshake completed (the hostile record went out after our Finished). */
  handshakeDone: boolean;
  /** Whether the server closed the connection within the wait. */
  closedByServer: boolean;
  /** The fatal alert the server sent, if one came (node:tls sends it and keeps the socket open). */
  alert: string | undefined;
}

const engine = new TsTlsEngine();

/**
 * Connect (STARTTLS first on plaintext listeners), run the handshake, send Finished + `kind` in
 * one write, then wait up to `waitMs` for the server to close.
 */
export async function finishedThenHostile(
  port: number,
  listener: ListenerInfo,
  kind: HostileRecord,
  waitMs = 3000,
): Promise<InjectionOutcome> {
  const client = await RawClient.connect({ port });
  try {
    if (!listener.implicitTls) {
      await readGreeting(client, listener.protocol);
      await askStartTls(client, listener.protocol);
    }
    const conn = new TlsConnection({
      role: 'client',
      provider: engine.provider,
      client: {
        serverName: 'localhost',
        rejectUnauthorized: false,
        minVersion: 'TLSv1.3',
        maxVersion: 'TLSv1.3',
      },
    });
    let handshakeDone = false;
    let alert: string | undefined;
    let refused!: () => void;
    const alerted = new Promise<void>((r) => (refused = r));
    const flush = (extra: Uint8Array[] = []) => {
      const out = [...conn.takeOutput(), ...extra];
      // One write: the server must see the Finished and the hostile record in one read.
      if (out.length) client.write(Buffer.concat(out));
    };
    client.socket.on('data', (chunk: Buffer) => {
      conn.receive(chunk);
      const events = conn.takeEvents();
      const fatal = events.find((e) => e.type === 'fatal');
      if (fatal && handshakeDone) {
        alert = fatal.sentByPeer ? fatal.alert : `(ours: ${fatal.alert})`;
        refused();
      }
      if (handshakeDone) {
        conn.takeOutput(); // nothing more of ours goes out
      } else if (events.some((e) => e.type === 'established')) {
        handshakeDone = true;
        flush(hostileBytes(conn, kind));
      } else flush();
    });
    conn.start();
    flush();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([client.closedAt, alerted, new Promise((r) => (timer = setTimeout(r, waitMs)))]);
    clearTimeout(timer);
    // A crash takes a moment to turn from a thrown error into an exited process.
    await sleep(100);
    return { handshakeDone, closedByServer: client.closed, alert };
  } finally {
    client.destroy();
  }
}
