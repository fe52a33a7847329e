/**
 * Which protocol handler stands behind each listener. Plaintext listeners offer STARTTLS/STLS;
 * the `s` listeners run the handshake first (RFC 8314). A protocol joins the gateway by adding
 * its factory to PROTOCOLS; listeners of a protocol not registered yet are skipped and logged.
 */
import { AuthThrottle, type CommonServerOptions, type Logger, type ProtocolHandler } from '@postern/core';
import type { Store } from '@postern/store';
import { ImapServer } from '@postern/imap';
import { Pop3Server } from '@postern/pop3';
import { SmtpServer, type CapturedMail, type SmtpFaults } from '@postern/smtp';
import { NntpServer, gatewayMailToNews } from '@postern/nntp';
import type { ListenerName, PortSetting } from './config.js';
import type { ListenerSpec } from './listeners.js';

export type { CapturedMail, SmtpFaults };

export type Protocol = ListenerSpec['protocol'];

export interface ProtocolSetup {
  /** Every protocol's settings, its connection limits among them; `idleTimeoutMs` too (all four take it). */
  common: CommonServerOptions & { idleTimeoutMs?: number };
  store: Store;
  ports: Record<ListenerName, PortSetting>;
  relay: 'queue' | 'capture';
  capture?: (mail: CapturedMail) => Promise<void>;
  faults?: Partial<Record<'smtp' | 'submission' | 'smtps', SmtpFaults>>;
  maxMessageSize?: number;
  /**
   * The login throttle of every listener: one budget per (user, IP) and per IP across IMAP,
   * POP3, NNTP, submission and MX AUTH (issue 19, item 4). Default: one made here.
   */
  authThrottle?: AuthThrottle;
}

type Factory = (setup: ProtocolSetup, listener: ListenerName) => ProtocolHandler;

/** Protocols plugged in so far; each protocol issue adds its line. */
const PROTOCOLS: Partial<Record<Protocol, Factory>> = {
  smtp: (setup, listener) =>
    new SmtpServer({
      ...setup.common,
      store: setup.store,
      authThrottle: setup.authThrottle,
      role: listener === 'smtp' ? 'mx' : 'submission',
      maxMessageSize: setup.maxMessageSize,
      relay: setup.relay,
      capture: setup.capture,
      faults: setup.faults?.[listener as 'smtp' | 'submission' | 'smtps'],
      // Mail to a group's address becomes an article (issue 11, the mail-to-news gateway).
      deliverToGroup: async (groupName, message) => {
        const group = await setup.store.news.getGroup(groupName);
        if (!group?.mailAddress) return false;
        const result = await gatewayMailToNews(setup.store, group.mailAddress, message, {
          hostname: setup.common.hostname,
        });
        return result.status !== 'rejected';
      },
    }),
  imap: (setup) =>
    new ImapServer({
      ...setup.common,
      store: setup.store,
      authThrottle: setup.authThrottle,
      maxLiteralSize: setup.maxMessageSize,
    }),
  pop3: (setup) => new Pop3Server({ ...setup.common, store: setup.store, authThrottle: setup.authThrottle }),
  nntp: (setup) => new NntpServer({ ...setup.common, store: setup.store, authThrottle: setup.authThrottle }),
};

const LISTENER_PROTOCOL: Record<ListenerName, Protocol> = {
  smtp: 'smtp',
  submission: 'smtp',
  smtps: 'smtp',
  imap: 'imap',
  imaps: 'imap',
  pop3: 'pop3',
  pop3s: 'pop3',
  nntp: 'nntp',
  nntps: 'nntp',
};

const IMPLICIT: Record<ListenerName, boolean> = {
  smtp: false,
  submission: false,
  smtps: true,
  imap: false,
  imaps: true,
  pop3: false,
  pop3s: true,
  nntp: false,
  nntps: true,
};

/** SMTP listeners differ by role and faults, so each gets its own handler. */
const PER_LISTENER: ReadonlySet<Protocol> = new Set(['smtp']);

export function availableProtocols(): Protocol[] {
  return Object.keys(PROTOCOLS) as Protocol[];
}

export function buildListenerSpecs(given: ProtocolSetup, logger?: Logger): ListenerSpec[] {
  // One throttle for every listener, so a budget spent on one port is spent on all of them.
  const setup = { ...given, authThrottle: given.authThrottle ?? new AuthThrottle() };
  const shared = new Map<Protocol, ProtocolHandler>();
  const specs: ListenerSpec[] = [];
  for (const [name, port] of Object.entries(setup.ports) as Array<[ListenerName, PortSetting]>) {
    if (port === 'off') continue;
    const protocol = LISTENER_PROTOCOL[name];
    const factory = PROTOCOLS[protocol];
    if (!factory) {
      logger?.info({ listener: name }, `listener ${name} skipped: the ${protocol} protocol is not built yet`);
      continue;
    }
    let handler = PER_LISTENER.has(protocol) ? undefined : shared.get(protocol);
    if (!handler) {
      handler = factory(setup, name);
      if (!PER_LISTENER.has(protocol)) shared.set(protocol, handler);
    }
    specs.push({ name, protocol, implicitTls: IMPLICIT[name], port, handler });
  }
  return specs;
}
