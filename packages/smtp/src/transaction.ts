/**
 * Mail transaction commands: MAIL (RFC 5321 §4.1.1.2), RCPT (§4.1.1.3), DATA (§4.1.1.4) and
 * BDAT (RFC 3030). Relay policy lives here: the MX role takes mail for local recipients from
 * anyone and relays only for authenticated users (550 5.7.1 otherwise), who send as their own
 * addresses only, whatever the role (553 5.7.1).
 */
import { BlockTooLargeError } from '@postern/core';
import { deliverTransaction } from './delivery.js';
import { END_OF_DATA, injectedReply } from './faults.js';
import { parseMailFrom, parseRcptTo } from './envelope.js';
import { R, SmtpError, reply } from './replies.js';
import type { SmtpSession } from './session.js';
import { MessageSpool } from './spool.js';
import { dataAllowed, type Recipient, type Transaction } from './state.js';
import { newMessageId } from './trace.js';

// Replies every message gets, made once (a reply is immutable and formats itself once).
const SENDER_OK = reply(250, '2.1.0', 'Sender OK');
const RECIPIENT_OK = reply(250, '2.1.5', 'Recipient OK');
const START_INPUT = reply(354, undefined, 'Start mail input; end with <CRLF>.<CRLF>');

const domainOf = (address: string) => address.slice(address.lastIndexOf('@') + 1).toLowerCase();

export async function mail(s: SmtpSession, args: string): Promise<void> {
  const { options } = s;
  if (s.state.kind === 'connected') throw new SmtpError(503, '5.5.1', 'Send EHLO or HELO first');
  if (s.state.kind !== 'ready') throw new SmtpError(503, '5.5.1', 'Sender already given; RSET to start over');
  // RFC 6409 §4.3: submission requires authentication.
  if (options.role === 'submission' && s.user === undefined)
    throw new SmtpError(530, '5.7.0', 'Authentication required');
  const { from, params } = parseMailFrom(args, options.maxMessageSize);
  if (params.smtputf8 && s.state.helo.extended === false)
    throw new SmtpError(503, '5.5.1', 'SMTPUTF8 needs EHLO');
  // RFC 6409 §6.1: an authenticated user sends as one of their own addresses. The rule goes
  // with the authentication, not the port: the MX listener offers AUTH too, and a user who
  // authenticated there relays just as on submission (issue 19, item 6).
  if (s.user !== undefined && options.checkSenderOwnership && from !== '') {
    const owner = await options.store.accounts.resolve(from);
    if (owner === undefined || owner.toLowerCase() !== s.user.toLowerCase()) {
      throw new SmtpError(553, '5.7.1', `Sender address <${from}> not owned by user ${s.user}`);
    }
  }
  s.apply({ type: 'mail', tx: { from, params, recipients: [] } });
  await s.send(SENDER_OK);
}

/**
 * RFC 5321 §4.5.1: every domain's postmaster MUST be deliverable. Without an alias of its own,
 * postmaster@<any local domain> (and the bare `postmaster`) goes to the first postmaster that
 * resolves: the hostname's, then each local domain's in order.
 */
async function postmasterFallback(s: SmtpSession, full: string): Promise<string | undefined> {
  if (!/^postmaster@/i.test(full)) return undefined;
  const { accounts } = s.options.store;
  for (const domain of [s.options.hostname, ...(await accounts.listDomains())]) {
    const user = await accounts.resolve(`postmaster@${domain}`);
    if (user !== undefined) return user;
  }
  return undefined;
}

async function classify(s: SmtpSession, address: string): Promise<Recipient['target']> {
  const { store, deliverToGroup, hostname } = s.options;
  const full = address === 'postmaster' ? `postmaster@${hostname}` : address;
  if (deliverToGroup) {
    const group = await store.news.groupByMailAddress(full);
    if (group) return { kind: 'group', group: group.name };
  }
  if (address === 'postmaster' || (await store.accounts.isLocalDomain(domainOf(full)))) {
    const user = (await store.accounts.resolve(full)) ?? (await postmasterFallback(s, full));
    if (user === undefined) throw new SmtpError(550, '5.1.1', `<${address}>: user unknown`);
    return { kind: 'local', user };
  }
  // Never an open relay (DESIGN.md, security stance). Capture mode relays nothing: it keeps
  // the mail for the test rig, so it takes other domains from anyone (issue 6).
  if (s.user === undefined && s.options.relay !== 'capture')
    throw new SmtpError(550, '5.7.1', `<${address}>: relaying denied`);
  return { kind: 'remote' };
}

export async function rcpt(s: SmtpSession, args: string): Promise<void> {
  const state = s.state;
  if (state.kind === 'bdat') throw new SmtpError(503, '5.5.1', 'RCPT not allowed during BDAT');
  if (state.kind !== 'mail') throw new SmtpError(503, '5.5.1', 'Need MAIL before RCPT');
  // RFC 5321 §4.5.3.1.10: 452 for too many recipients, the client sends the rest later.
  if (state.tx.recipients.length >= s.options.maxRecipients)
    throw new SmtpError(452, '4.5.3', 'Too many recipients');
  const { to, params } = parseRcptTo(args, state.tx.params.smtputf8);
  const target = await classify(s, to);
  s.apply({ type: 'rcpt', recipient: { address: to, params, target } });
  await s.send(RECIPIENT_OK);
}

async function finish(s: SmtpSession, tx: Transaction, spool: MessageSpool): Promise<void> {
  const injected = injectedReply(s.options.faults, END_OF_DATA);
  if (injected) {
    await spool.dispose();
    s.apply({ type: 'message-done' });
    await s.send(injected);
    return;
  }
  const id = newMessageId();
  try {
    const result = await deliverTransaction(s.options, tx, spool, {
      id,
      heloName: s.state.kind === 'connected' ? 'unknown' : s.state.helo.name,
      remoteAddress: s.remoteAddress,
      tls: s.channel.tls,
      user: s.user,
    });
    s.log.info(
      { id, from: tx.from, rcpts: tx.recipients.length, size: spool.size, ...result },
      'message accepted',
    );
  } catch (err) {
    s.log.error({ id, err: (err as Error).message }, 'delivery failed');
    // RFC 5321 §4.2.2 452 and RFC 3463 X.3.1 "mail system full": the client retries later.
    if ((err as { code?: unknown }).code === 'FULL')
      throw new SmtpError(452, '4.3.1', 'Insufficient system storage; try again later');
    throw R.tempFailure();
  } finally {
    await spool.dispose();
    s.apply({ type: 'message-done' });
  }
  await s.send(reply(250, '2.0.0', `OK: queued as ${id}`));
}

export async function data(s: SmtpSession, args: string): Promise<void> {
  const tx = dataAllowed(s.state);
  if (args.trim()) throw R.syntax('Syntax: DATA');
  await s.send(START_INPUT, { flush: true });
  const spool = new MessageSpool();
  try {
    await s.channel.readDotBlockInto(s.options.maxMessageSize, (chunk) => spool.add(chunk));
  } catch (err) {
    await spool.dispose();
    if (err instanceof BlockTooLargeError) {
      s.apply({ type: 'message-done' });
      // RFC 1870 §6.2 / RFC 5321 §4.5.3.1.10: 552 after the whole block was read.
      throw new SmtpError(
        552,
        '5.3.4',
        `Message exceeds the size limit of ${s.options.maxMessageSize} octets`,
      );
    }
    throw err;
  }
  await finish(s, tx, spool);
}

/** RFC 3030 §2: `BDAT size [LAST]`; the chunk follows the command line exactly. */
export async function bdat(s: SmtpSession, args: string): Promise<'continue' | 'quit'> {
  const m = /^(\d{1,15})(?:\s+(LAST))?\s*$/i.exec(args.trim());
  if (!m) {
    // Without a size we cannot find the next command: answer and close (RFC 3030 §3).
    throw new SmtpError(501, '5.5.4', 'Syntax: BDAT size [LAST]', true);
  }
  const size = Number(m[1]);
  const last = m[2] !== undefined;
  const state = s.state;
  let spool: MessageSpool;
  let sequenceError: SmtpError | undefined;
  if (state.kind === 'bdat') spool = state.spool;
  else if (state.kind === 'mail' && state.tx.recipients.length > 0) {
    spool = new MessageSpool();
    s.apply({ type: 'bdat-chunk', spool });
  } else {
    spool = new MessageSpool();
    sequenceError =
      state.kind === 'mail'
        ? new SmtpError(554, '5.5.1', 'No valid recipients')
        : new SmtpError(503, '5.5.1', 'Need MAIL and RCPT before BDAT');
  }
  // The chunk is always consumed, even when refused, so the next command line is found.
  const tooBig = spool.size + size > s.options.maxMessageSize;
  for await (const chunk of s.channel.readExact(size)) {
    if (!tooBig && !sequenceError) await spool.write(chunk as Buffer);
  }
  if (sequenceError) {
    await spool.dispose();
    throw sequenceError;
  }
  if (tooBig) {
    await spool.dispose();
    s.apply({ type: 'message-done' });
    throw new SmtpError(552, '5.3.4', `Message exceeds the size limit of ${s.options.maxMessageSize} octets`);
  }
  const current = s.state;
  if (current.kind !== 'bdat') throw new Error('BDAT state lost');
  if (!last) {
    await s.send(reply(250, '2.0.0', `${size} octets received`));
    return 'continue';
  }
  await finish(s, current.tx, spool);
  return 'continue';
}
