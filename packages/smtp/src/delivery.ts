/**
 * The end of a transaction: the message (already size-checked, in a spool) goes to local
 * INBOXes in one store call, to newsgroups through the gateway hook, and to the relay queue
 * or the capture hook for other domains. The caller says 250 only after this resolves, so
 * every acknowledged message is durable in the store (DESIGN.md, "The store").
 */
import type { TlsSessionInfo } from '@postern/core';
import type { QueueEnvelope } from '@postern/store';
import type { ResolvedSmtpOptions } from './options.js';
import type { MessageSpool } from './spool.js';
import type { Transaction } from './state.js';
import { receivedHeader, returnPathHeader, submissionHeaders } from './trace.js';

export interface DeliveryFacts {
  id: string;
  heloName: string;
  remoteAddress: string;
  tls: TlsSessionInfo | undefined;
  /** The authenticated user, if any. */
  user: string | undefined;
}

export interface DeliveryResult {
  local: number;
  groups: number;
  relayed: number;
}

export async function deliverTransaction(
  options: ResolvedSmtpOptions,
  tx: Transaction,
  spool: MessageSpool,
  facts: DeliveryFacts,
): Promise<DeliveryResult> {
  const all = tx.recipients.map((r) => r.address);
  const received = receivedHeader({
    hostname: options.hostname,
    heloName: facts.heloName,
    remoteAddress: facts.remoteAddress,
    tls: facts.tls,
    authenticated: facts.user !== undefined,
    id: facts.id,
    recipients: all,
    smtputf8: tx.params.smtputf8,
  });
  const added = options.role === 'submission' ? submissionHeaders(spool.start, options.hostname) : '';
  const trace = Buffer.from(received + added, 'utf8');

  const local = tx.recipients.flatMap((r) => (r.target.kind === 'local' ? [r.target.user] : []));
  const groups = tx.recipients.flatMap((r) => (r.target.kind === 'group' ? [r.target.group] : []));
  const remote = tx.recipients.filter((r) => r.target.kind === 'remote');

  if (remote.length > 0) {
    if (options.relay === 'capture' && options.capture) {
      await options.capture({
        envelope: { from: tx.from, to: remote.map((r) => r.address) },
        message: await spool.toBuffer(trace),
      });
    } else {
      const envelope: QueueEnvelope = { from: tx.from, to: remote.map((r) => r.address) };
      const notify = Object.fromEntries(
        remote.filter((r) => r.params.notify).map((r) => [r.address, r.params.notify!]),
      );
      const orcpt = Object.fromEntries(
        remote.filter((r) => r.params.orcpt).map((r) => [r.address, r.params.orcpt!]),
      );
      if (tx.params.ret || tx.params.envid || Object.keys(notify).length || Object.keys(orcpt).length) {
        envelope.dsn = { ret: tx.params.ret, envid: tx.params.envid, notify, orcpt };
      }
      await options.store.queue.enqueue(envelope, spool.open(trace));
    }
  }
  for (const group of new Set(groups)) {
    if (!options.deliverToGroup) throw new Error('no mail-to-news gateway configured');
    await options.deliverToGroup(group, await spool.toBuffer(trace));
  }
  if (local.length > 0) {
    // RFC 5321 §4.4: the delivering server adds Return-Path.
    const prefix = Buffer.concat([Buffer.from(returnPathHeader(tx.from)), trace]);
    // A message that stayed in memory goes as one Buffer: no stream to set up and drain.
    await options.store.mail.deliver(
      [...new Set(local)].map((user) => ({ user })),
      spool.source(prefix),
    );
  }
  return { local: new Set(local).size, groups: new Set(groups).size, relayed: remote.length };
}
