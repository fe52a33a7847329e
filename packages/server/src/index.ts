export { startGateway } from './gateway.js';
export type { Gateway, GatewayOptions } from './gateway.js';
export type { MailFilter, ParsedMail } from './mail-log.js';
export { availableProtocols } from './protocols.js';
export type { SmtpFaults, CapturedMail, Protocol } from './protocols.js';
export {
  LISTENERS,
  DEFAULT_PORTS,
  defaultSettings,
  loadConfigFile,
  mergeSettings,
  parsePort,
} from './config.js';
export type { ListenerName, PortSetting, ServeSettings } from './config.js';
