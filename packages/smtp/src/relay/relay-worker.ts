/**
 * The relay worker: claims due items from the store's queue, delivers them through a
 * smarthost or the recipients' MX hosts (one connection per destination carries every
 * message for it), and settles each recipient: delivered, retried later (4xx, connection
 * trouble) or bounced (5xx, or retried for too long).
 */
import type { Readable } from 'node:stream';
import { silentLogger, type Logger, type TlsEngine } from '@postern/core';
import type { QueueItem, Store } from '@postern/store';
import { resolveTargets, type MxResolver, type RelayTarget, type Smarthost } from './destinations.js';
import { buildDsn, headerSection, statusOf, type FailedRecipient } from './dsn.js';
import { replyText, type SmtpReply } from './reply.js';
import { DEFAULT_RETRY_SCHEDULE, nextAttempt, type RetrySchedule } from './retry-schedule.js';
import { RelayError, SmtpClient, toRelayError, type RelayTlsPolicy } from './smtp-client.js';

export interface RelayWorkerOptions {
  store: Store;
  /** EHLO name and Reporting-MTA of bounces. */
  hostname: string;
  engine: TlsEngine;
  smarthost?: Smarthost;
  /** Default: required through a smarthost, opportunistic to MX hosts. */
  tls?: RelayTlsPolicy;
  ca?: string | readonly string[];
  /** Name to verify the smarthost's certificate against (default its host). */
  serverName?: string;
  /** Port of MX hosts (25; tests point it elsewhere). */
  mxPort?: number;
  resolveMx?: MxResolver;
  schedule?: RetrySchedule;
  pollIntervalMs?: number;
  leaseMs?: number;
  batchSize?: number;
  connectTimeoutMs?: number;
  replyTimeoutMs?: number;
  logger?: Logger;
  now?: () => Date;
}

type Outcome =
  | { kind: 'delivered' }
  | { kind: 'temporary'; reason: string }
  | { kind: 'permanent'; reason: string; status: string; remoteMta?: string };

/** One item's recipients headed for one destination. */
interface Leg {
  item: QueueItem;
  recipients: string[];
}

export interface RelayRunSummary {
  claimed: number;
  delivered: number;
  deferred: number;
  bounced: number;
}

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const c of stream) {
    chunks.push(c as Buffer);
    total += (c as Buffer).length;
    if (total >= limit) {
      stream.destroy();
      break;
    }
  }
  return Buffer.concat(chunks);
}

export class RelayWorker {
  private readonly logger: Logger;
  private readonly now: () => Date;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<RelayRunSummary> | undefined;
  private stopped = true;

  constructor(private readonly options: RelayWorkerOptions) {
    this.logger = options.logger ?? silentLogger;
    this.now = options.now ?? (() => new Date());
  }

  /** Poll the queue until stop(). */
  start(): void {
    if (!this.stopped) return;
    this.stopped = false;
    const tick = () => {
      if (this.stopped) return;
      this.runOnce()
        .catch((err: unknown) => this.logger.error({ err: String(err) }, 'relay: run failed'))
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.options.pollIntervalMs ?? 5000);
        });
    };
    this.timer = setTimeout(tick, 0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** One pass over the due items; runs never overlap. */
  runOnce(): Promise<RelayRunSummary> {
    this.running ??= this.pass().finally(() => (this.running = undefined));
    return this.running;
  }

  private async pass(): Promise<RelayRunSummary> {
    const { store } = this.options;
    const items = await store.queue.claim(
      this.options.batchSize ?? 50,
      this.options.leaseMs ?? 10 * 60_000,
      this.now(),
    );
    const summary: RelayRunSummary = { claimed: items.length, delivered: 0, deferred: 0, bounced: 0 };
    if (items.length === 0) return summary;
    const outcomes = new Map<string, Map<string, Outcome>>(items.map((i) => [i.id, new Map()]));
    for (const [destination, legs] of this.groupByDestination(items)) {
      await this.deliverLegs(destination, legs, outcomes);
    }
    for (const item of items) {
      const result = await this.settle(item, outcomes.get(item.id)!);
      summary[result]++;
    }
    return summary;
  }

  private groupByDestination(items: QueueItem[]): Map<string, Leg[]> {
    const groups = new Map<string, Leg[]>();
    for (const item of items) {
      const byDomain = new Map<string, string[]>();
      for (const r of item.pending) {
        const key = this.options.smarthost ? 'smarthost' : domainOf(r);
        byDomain.set(key, [...(byDomain.get(key) ?? []), r]);
      }
      for (const [key, recipients] of byDomain)
        groups.set(key, [...(groups.get(key) ?? []), { item, recipients }]);
    }
    return groups;
  }

  private async targetsFor(destination: string): Promise<RelayTarget[]> {
    const sh = this.options.smarthost;
    if (sh) return [{ host: sh.host, port: sh.port }];
    return resolveTargets(destination, this.options.resolveMx, this.options.mxPort ?? 25);
  }

  private async connect(destination: string): Promise<{ client: SmtpClient; target: RelayTarget }> {
    const targets = await this.targetsFor(destination);
    const sh = this.options.smarthost;
    let lastError: RelayError = new RelayError(`no host to deliver to for ${destination}`, false);
    for (const target of targets) {
      try {
        const client = await SmtpClient.connect({
          host: target.host,
          port: target.port,
          heloName: this.options.hostname,
          engine: this.options.engine,
          tls: this.options.tls ?? (sh ? 'required' : 'opportunistic'),
          serverName: sh ? (this.options.serverName ?? sh.host) : target.host,
          ca: this.options.ca,
          auth: sh?.auth,
          connectTimeoutMs: this.options.connectTimeoutMs,
          replyTimeoutMs: this.options.replyTimeoutMs,
          logger: this.logger,
        });
        return { client, target };
      } catch (err) {
        lastError = toRelayError(err);
        this.logger.warn(
          { destination, host: target.host, port: target.port, reason: lastError.message },
          'relay: connect failed',
        );
        // A permanent refusal from one MX does not condemn the others (RFC 5321 §5.1).
      }
    }
    throw lastError;
  }

  private async deliverLegs(
    destination: string,
    legs: Leg[],
    outcomes: Map<string, Map<string, Outcome>>,
  ): Promise<void> {
    const mark = (leg: Leg, outcome: Outcome, only?: string[]) => {
      for (const r of only ?? leg.recipients) outcomes.get(leg.item.id)!.set(r, outcome);
    };
    let connection: { client: SmtpClient; target: RelayTarget };
    try {
      connection = await this.connect(destination);
    } catch (err) {
      const e = err as Error & { permanent?: boolean };
      const outcome: Outcome = e.permanent
        ? { kind: 'permanent', reason: e.message, status: '5.1.2' }
        : { kind: 'temporary', reason: e.message };
      for (const leg of legs) mark(leg, outcome);
      return;
    }
    const { client, target } = connection;
    const tls = client.tls;
    this.logger.info(
      {
        destination,
        host: target.host,
        port: target.port,
        tls: tls ? `${tls.version} ${tls.cipherSuite}` : 'none',
        verified: tls?.peerVerified ?? false,
      },
      'relay: connected',
    );
    let broken: string | undefined;
    for (const leg of legs) {
      if (broken) {
        mark(leg, { kind: 'temporary', reason: broken });
        continue;
      }
      try {
        if (client.sizeLimit && leg.item.size > client.sizeLimit) {
          mark(leg, {
            kind: 'permanent',
            reason: `message too big for ${target.host} (limit ${client.sizeLimit})`,
            status: '5.3.4',
            remoteMta: target.host,
          });
          continue;
        }
        const result = await client.send(
          { from: leg.item.envelope.from, to: leg.recipients },
          () => this.options.store.queue.openMessage(leg.item.id),
          leg.item.size,
        );
        for (const r of leg.recipients)
          mark(leg, this.outcomeOf(result.recipients.get(r), result.dataReply, target.host), [r]);
      } catch (err) {
        // The connection failed mid-transaction: nothing of this leg was accepted.
        broken = `connection to ${target.host} lost: ${(err as Error).message}`;
        mark(leg, { kind: 'temporary', reason: broken });
      }
    }
    if (broken) client.destroy();
    else await client.quit();
  }

  private outcomeOf(rcpt: SmtpReply | undefined, data: SmtpReply | undefined, host: string): Outcome {
    const final = rcpt && rcpt.code < 300 ? data : rcpt;
    if (!final) return { kind: 'temporary', reason: `no reply from ${host}` };
    if (final.code < 300) return { kind: 'delivered' };
    const reason = `${host} said: ${replyText(final)}`;
    if (final.code < 500) return { kind: 'temporary', reason };
    return { kind: 'permanent', reason, status: statusOf(final, true), remoteMta: host };
  }

  private async settle(
    item: QueueItem,
    outcomes: Map<string, Outcome>,
  ): Promise<'delivered' | 'deferred' | 'bounced'> {
    const { queue } = this.options.store;
    const failed: FailedRecipient[] = [];
    const pending: string[] = [];
    let reason = '';
    for (const r of item.pending) {
      const o = outcomes.get(r) ?? { kind: 'temporary', reason: 'not attempted' };
      if (o.kind === 'permanent')
        failed.push({ address: r, status: o.status, diagnostic: o.reason, remoteMta: o.remoteMta });
      else if (o.kind === 'temporary') {
        pending.push(r);
        reason ||= o.reason;
      }
    }
    let at: Date | undefined;
    if (pending.length > 0) {
      at = nextAttempt(
        this.options.schedule ?? DEFAULT_RETRY_SCHEDULE,
        item.attempts + 1,
        item.createdAt,
        this.now(),
      );
      if (!at) {
        for (const r of pending)
          failed.push({ address: r, status: '4.4.7', diagnostic: `gave up after retrying: ${reason}` });
      }
    }
    if (failed.length > 0) await this.bounce(item, failed);
    if (pending.length > 0 && at) {
      await queue.defer(item.id, at, reason, pending);
      this.logger.info(
        { id: item.id, pending: pending.length, next: at.toISOString(), reason },
        'relay: deferred',
      );
      return 'deferred';
    }
    if (pending.length > 0) {
      await queue.fail(item.id, `gave up: ${reason}`);
      return 'bounced';
    }
    await queue.complete(item.id);
    this.logger.info(
      { id: item.id, failed: failed.length },
      failed.length ? 'relay: done with failures' : 'relay: delivered',
    );
    return failed.length ? 'bounced' : 'delivered';
  }

  /** RFC 3464 report to the envelope sender; never for the null sender (no bounce loops). */
  private async bounce(item: QueueItem, failed: FailedRecipient[]): Promise<void> {
    const sender = item.envelope.from;
    this.logger.warn(
      { id: item.id, sender, recipients: failed.map((f) => f.address) },
      'relay: undeliverable',
    );
    if (!sender) return;
    const { store, hostname } = this.options;
    const full = item.envelope.dsn?.ret === 'FULL' && item.size <= 1024 * 1024;
    const original = await readAll(await store.queue.openMessage(item.id), full ? item.size + 1 : 256 * 1024);
    const dsn = buildDsn({
      reportingMta: hostname,
      to: sender,
      arrivalDate: item.createdAt,
      recipients: failed,
      originalHeaders: headerSection(original),
      originalMessage: full ? original : undefined,
      envid: item.envelope.dsn?.envid,
      now: this.now(),
    });
    const local = await store.accounts.resolve(sender);
    if (local) await store.mail.deliver([{ user: local }], dsn);
    else await store.queue.enqueue({ from: '', to: [sender] }, dsn);
  }
}
