export * from './errors.js';
export * from './logging.js';
export * from './tls/engine.js';
export { NativeTlsEngine } from './tls/native.js';
export { TsTlsEngine } from './tls/ts-engine.js';
export type { TsTlsEngineOptions, CryptoChoice } from './tls/ts-engine.js';
export { TlsConnection } from './tls/connection.js';
export type { TlsEvent, TlsConnectionOptions } from './tls/connection.js';
export { MemorySessionCache } from './tls/session-cache.js';
export type { ClientSession, MemorySessionCacheOptions, TlsSessionCache } from './tls/session-cache.js';
export { AeadSessionTicketer, TicketKeys, processTicketKeys } from './tls/session-ticket.js';
export type { SessionTicketer, TicketKey, TicketState } from './tls/session-ticket.js';
export type { SessionTicketConfig } from './tls/server-psk.js';
export { LineChannel } from './channel/line-channel.js';
export type { BlockSink, LineChannelOptions, UpgradeOptions, UpgradeResult } from './channel/line-channel.js';
export { DotDecoder, DotEncoder, dotEncode } from './channel/dot-codec.js';
export { generateSelfSigned } from './certs/self-signed.js';
export type { SelfSignedOptions } from './certs/self-signed.js';
export { generateTestCa, issueCertificate, issueIntermediateCa } from './certs/self-signed.js';
export type { KeyType as CertificateKeyType, TestCa, TestCaOptions } from './certs/self-signed.js';
export type { IssueOptions } from './certs/self-signed.js';
export { parsePemChain, pemBlocks, derToPem } from './certs/pem.js';
export type { PemBlock } from './certs/pem.js';
export { SIGNATURE_SCHEME_CODES, schemeFromCode, loadSigningKey, verifySignature } from './certs/signing.js';
export type { SignatureScheme, SigningKey } from './certs/signing.js';
export { verifyServerChain, matchesHostname } from './certs/verify.js';
export type { ChainVerdict, VerifyServerChainOptions } from './certs/verify.js';
export { CertificateStore, certificateNames, checkCertifiedKey } from './certs/certificate-store.js';
export { hasProgram, requireProgram } from './testing.js';
export { connectRawLines, waitUntil, type RawLineClient } from './testing-raw-lines.js';
export { matchGlob, type GlobToken } from './linear-glob.js';
export type { CommonServerOptions, ConnectionOptions, ProtocolHandler, TlsSettings } from './protocol.js';
export { decodeSaslPlain, decodeBase64Text } from './sasl.js';
export type { PlainCredentials } from './sasl.js';
export { ProtocolServer } from './server/protocol-server.js';
export type { ProtocolServerOptions, ServedSession, SessionStart } from './server/protocol-server.js';
export { SessionSkeleton, deadlineKind } from './server/session-skeleton.js';
export type {
  DeadlineKind,
  LineOutcome,
  Refusal,
  SessionLimits,
  SessionSetup,
} from './server/session-skeleton.js';
export { ConnectionLimiter } from './server/connection-limiter.js';
export type { ConnectionCaps, ConnectionSlot, RefusalReason } from './server/connection-limiter.js';
export { RefusalLog } from './server/refusal-log.js';
export type { RefusalLogOptions } from './server/refusal-log.js';
export {
  resolveConnectionLimits,
  DEFAULT_COMMAND_TIMEOUT_MS,
  DEFAULT_MAX_CONNECTIONS,
  DEFAULT_PRE_AUTH_TIMEOUT_MS,
} from './server/limits.js';
export type { ConnectionLimitOptions, LimitDefaults, ResolvedConnectionLimits } from './server/limits.js';
export { AuthThrottle } from './auth-throttle.js';
export type { AuthThrottleOptions, AuthVerdict } from './auth-throttle.js';
