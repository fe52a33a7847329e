/**
 * The end of a transaction: the message (already size-checked, in a spool) goes to local
 * INBOXes in one store call, to newsgroups through the gateway hook, and to the relay queue
 * or the capture hook for other domains. The caller says 250 only after this resolves, so
 * every acknowledged message is durable in the store (DESIGN.md, "The store").
 */
import type { TlsSessionInfo } from '@postern/core';
import { handOver, type QueueEnvelope } from '@postern/store';
import type { ResolvedSmtpOptions } from './options.js';
import type { MessageSpool } from './spool.js';
import type { Recipient, Transaction } from './state.js';
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
  // One pass over the recipients; arrays only for the kinds there are (usually one local).
  const all: string[] = [];
  const local: string[] = [];
  let groups: string[] | undefined;
  let remote: Recipient[] | undefined;
  for (const r of tx.recipients) {
    all.push(r.address);
    const target = r.target;
    if (target.kind === 'local') {
      if (!local.includes(target.user)) local.push(target.user);
    } else if (target.kind === 'group') {
      if (!(groups ??= []).includes(target.group)) groups.push(target.group);
    } else (remote ??= []).push(r);
  }
  const received = receivedHeader({
    hostname: options.hostname,
    heloName: facts.heloName,
    remoteAddress: facts.remoteAddress,
    tls: facts.tls,
    authenticated: facts.user !== undefined,
    authenticatedUser: facts.user,
    id: facts.id,
    recipients: all,
    smtputf8: tx.params.smtputf8,
  });
  const added = options.role === 'submission' ? submissionHeaders(spool.start, options.hostname) : '';
  const traceText = received + added;
  // Only relay and news want the trace as bytes of its own; local delivery writes it in place.
  let traceBytes: Buffer | undefined;
  const trace = () => (traceBytes ??= Buffer.from(traceText, 'utf8'));

  if (remote) {
    if (options.relay === 'capture' && options.capture) {
      await options.capture({
        envelope: { from: tx.from, to: remote.map((r) => r.address) },
        message: await spool.toBuffer(trace()),
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
      await options.store.queue.enqueue(envelope, spool.open(trace()));
    }
  }
  for (const group of groups ?? []) {
    if (!options.deliverToGroup) throw new Error('no mail-to-news gateway configured');
    await options.deliverToGroup(group, await spool.toBuffer(trace()));
  }
  if (local.length > 0) {
    // RFC 5321 §4.4: the delivering server adds Return-Path.
    const message = spool.source(returnPathHeader(tx.from) + traceText);
    // A message that stayed in memory goes as one Buffer: no stream to set up and drain. It
    // was made for this call and nothing else refers to it: the store may keep it as it is.
    await options.store.mail.deliver(
      local.map((user) => ({ user })),
      Buffer.isBuffer(message) ? handOver(message) : message,
    );
  }
  return { local: local.length, groups: groups?.length ?? 0, relayed: remote?.length ?? 0 };
}
