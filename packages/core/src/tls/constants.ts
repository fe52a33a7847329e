/** Code points from the IANA TLS registries used by the engine (RFC 8446 §4, §B.3). */
import type { AeadName, HashName, NamedGroup } from '../crypto/provider.js';

export const ContentType = {
  change_cipher_spec: 20,
  alert: 21,
  handshake: 22,
  application_data: 23,
} as const;

export const HandshakeType = {
  client_hello: 1,
  server_hello: 2,
  new_session_ticket: 4,
  end_of_early_data: 5,
  encrypted_extensions: 8,
  certificate: 11,
  certificate_request: 13,
  certificate_verify: 15,
  finished: 20,
  key_update: 24,
  message_hash: 254,
} as const;

export const ExtensionType = {
  server_name: 0,
  supported_groups: 10,
  signature_algorithms: 13,
  alpn: 16,
  pre_shared_key: 41,
  early_data: 42,
  supported_versions: 43,
  cookie: 44,
  psk_key_exchange_modes: 45,
  key_share: 51,
} as const;

/** RFC 8446 §4.2.9: PSK key exchange modes. We accept and offer psk_dhe_ke only (forward secrecy). */
export const PskMode = { psk_ke: 0, psk_dhe_ke: 1 } as const;

/** RFC 8446 §4.6.1: no ticket lives longer than seven days. */
export const MAX_TICKET_LIFETIME_SECONDS = 604_800;

export const TLS13 = 0x0304;
export const TLS12 = 0x0303;

export interface CipherSuite {
  readonly code: number;
  readonly name: string;
  readonly aead: AeadName;
  readonly hash: HashName;
  readonly keyLength: number;
}

export const CIPHER_SUITES: readonly CipherSuite[] = [
  { code: 0x1301, name: 'TLS_AES_128_GCM_SHA256', aead: 'aes-128-gcm', hash: 'sha256', keyLength: 16 },
  { code: 0x1302, name: 'TLS_AES_256_GCM_SHA384', aead: 'aes-256-gcm', hash: 'sha384', keyLength: 32 },
  {
    code: 0x1303,
    name: 'TLS_CHACHA20_POLY1305_SHA256',
    aead: 'chacha20-poly1305',
    hash: 'sha256',
    keyLength: 32,
  },
];

export function suiteByCode(code: number): CipherSuite | undefined {
  return CIPHER_SUITES.find((s) => s.code === code);
}

export const GROUP_CODES: Record<NamedGroup, number> = {
  x25519: 0x001d,
  secp256r1: 0x0017,
  secp384r1: 0x0018,
  X25519MLKEM768: 0x11ec,
};

export function groupByCode(code: number): NamedGroup | undefined {
  return (Object.keys(GROUP_CODES) as NamedGroup[]).find((g) => GROUP_CODES[g] === code);
}

/** RFC 8446 §4.1.3: the ServerHello.random that marks a HelloRetryRequest. */
export const HRR_RANDOM = Uint8Array.from(
  Buffer.from('cf21ad74e59a6111be1d8c021e65b891c2a211167abb8c5e079e09e2c8a8339c', 'hex'),
);

/** RFC 8446 §4.1.3 downgrade sentinels in the last 8 bytes of ServerHello.random. */
export const DOWNGRADE_TLS12 = Uint8Array.from(Buffer.from('444f574e47524401', 'hex'));
export const DOWNGRADE_TLS11 = Uint8Array.from(Buffer.from('444f574e47524400', 'hex'));

/** RFC 8446 §5.1: TLSPlaintext/TLSInnerPlaintext limit; §5.2: ciphertext expansion limit. */
export const MAX_PLAINTEXT = 1 << 14;
export const MAX_CIPHERTEXT = (1 << 14) + 256;
/** Our own cap on one reassembled handshake message (certificate chains fit comfortably). */
export const MAX_HANDSHAKE_MESSAGE = 64 * 1024;
/**
 * The largest ClientHello its encoding allows (RFC 8446 §4.1.2): version 2, random 32,
 * session id 1+32, cipher suites 2+65534, compression methods 1+255, extensions 2+65535.
 * Post-quantum key shares (X25519MLKEM768 alone is 1216 bytes, ML-KEM-1024 1568) and long
 * extension and suite lists make hellos large; the old 64 KiB cap refused hellos OpenSSL takes
 * (tlsfuzzer test-large-hello). The structural maximum refuses no well-formed hello and still
 * bounds what one connection makes us buffer before the handshake (OpenSSL's figure too).
 */
export const MAX_CLIENT_HELLO = 131_396;
