/**
 * Server certificate verification for the client side of TLS (RFC 8446 §4.4.2.4, RFC 5280 §6,
 * RFC 6125 §6): a path from the leaf through the intermediates the server sent (in any order,
 * extras ignored) to a trust anchor, every signature checked, every certificate valid at `now`,
 * every issuer a CA allowed to sign certificates (basicConstraints, keyUsage, pathLen), name
 * constraints honoured, unknown critical extensions refused, and the leaf naming the host.
 */
import { X509Certificate } from 'node:crypto';
import * as tls from 'node:tls';
import {
  OID,
  certificateFields,
  keyUsageHas,
  parseBasicConstraints,
  parseExtKeyUsage,
  parseSubjectAltName,
  type AltNames,
  type CertificateFields,
} from './der.js';
import { matchesHostname } from './hostname.js';
import { checkNameConstraints, parseNameConstraints } from './name-constraints.js';
import { parsePemChain } from './pem.js';

export { matchesHostname } from './hostname.js';

export type ChainVerdict = { ok: true } | { ok: false; reason: string };

export interface VerifyServerChainOptions {
  /** Trust anchors, PEM (each string may hold several). Default: Node's root store. */
  ca?: string | readonly string[];
  /** The name to check the leaf against; omitted: the path alone is checked. */
  serverName?: string;
  /** The clock (default: now). */
  now?: Date;
}

/** Certificates a peer may send (RFC 8446 §4.4.2 sets no bound: this is ours). */
const MAX_CHAIN_LENGTH = 10;
/** Intermediates between the leaf and the anchor. */
const MAX_PATH_INTERMEDIATES = 6;
/**
 * Signature checks one verification may spend. Certificates sharing a name and a key all
 * "issue" each other: without a budget, a hostile server's 10 certificates make thousands of
 * candidate paths.
 */
const MAX_SIGNATURE_CHECKS = 64;

const OID_NAME_CONSTRAINTS = '2.5.29.30';
/** Extensions this verifier understands, so may be critical (RFC 5280 §4.2). */
const UNDERSTOOD = new Set<string>([
  OID.basicConstraints,
  OID.keyUsage,
  OID.extKeyUsage,
  OID.subjectAltName,
  OID_NAME_CONSTRAINTS,
  '2.5.29.14', // subjectKeyIdentifier
  '2.5.29.35', // authorityKeyIdentifier
  '2.5.29.32', // certificatePolicies: any policy is acceptable to a TLS client
]);

interface Cert {
  readonly der: Uint8Array;
  readonly x509: X509Certificate;
  readonly fields: CertificateFields;
}

function parse(der: Uint8Array): Cert {
  return { der, x509: new X509Certificate(der), fields: certificateFields(der) };
}

let nodeRoots: Cert[] | undefined;

/** Node's bundled root store, parsed once. Roots that fail to parse are left out. */
function defaultAnchors(): Cert[] {
  if (!nodeRoots) {
    nodeRoots = [];
    for (const pem of tls.rootCertificates) {
      try {
        nodeRoots.push(...parsePemChain(pem).map(parse));
      } catch {
        // an unparsable root can anchor nothing
      }
    }
  }
  return nodeRoots;
}

function ext(cert: Cert, oid: string) {
  return cert.fields.extensions.find((e) => e.oid === oid);
}

function label(cert: Cert): string {
  return cert.x509.subject.replace(/\n/g, ', ') || '(empty subject)';
}

function sameDer(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.compare(a, b) === 0;
}

function checkValidity(cert: Cert, now: Date): string | undefined {
  if (now < cert.fields.notBefore) return `certificate "${label(cert)}" is not yet valid`;
  if (now > cert.fields.notAfter) return `certificate "${label(cert)}" has expired`;
  return undefined;
}

function checkCriticalExtensions(cert: Cert): string | undefined {
  const unknown = cert.fields.extensions.find((e) => e.critical && !UNDERSTOOD.has(e.oid));
  return unknown
    ? `certificate "${label(cert)}" has an unsupported critical extension ${unknown.oid}`
    : undefined;
}

/** The leaf may be used by a TLS server (RFC 5280 §4.2.1.3, §4.2.1.12). */
function checkLeafUsage(leaf: Cert): string | undefined {
  const ku = ext(leaf, OID.keyUsage);
  if (ku && !keyUsageHas(ku.value, 0)) return 'the server certificate may not sign (keyUsage)';
  const eku = ext(leaf, OID.extKeyUsage);
  if (eku) {
    const usages = parseExtKeyUsage(eku.value);
    if (!usages.includes(OID.serverAuth) && !usages.includes(OID.anyExtendedKeyUsage)) {
      return 'the certificate is not for TLS servers (extKeyUsage)';
    }
  }
  return undefined;
}

/**
 * `issuer` may issue a certificate with `below` non-self-issued intermediates under it
 * (RFC 5280 §6.1.4 (k), (l), (m), (n)). Trust anchors without basicConstraints (v1 roots) are
 * accepted as CAs; anything else must assert cA.
 */
function checkIssuerRole(issuer: Cert, below: number, isAnchor: boolean): string | undefined {
  const bc = ext(issuer, OID.basicConstraints);
  const constraints = bc ? parseBasicConstraints(bc.value) : undefined;
  if (constraints ? !constraints.ca : !isAnchor) return `issuer "${label(issuer)}" is not a CA`;
  if (constraints?.pathLength !== undefined && below > constraints.pathLength) {
    return `issuer "${label(issuer)}" allows ${constraints.pathLength} intermediates below it, the path has ${below}`;
  }
  const ku = ext(issuer, OID.keyUsage);
  if (ku && !keyUsageHas(ku.value, 5))
    return `issuer "${label(issuer)}" may not sign certificates (keyUsage)`;
  return undefined;
}

function namesOf(cert: Cert): AltNames {
  const san = ext(cert, OID.subjectAltName);
  return san ? parseSubjectAltName(san.value) : { dns: cert.fields.subjectCommonNames, ip: [] };
}

/**
 * `issuer`'s subject names `child`'s issuer. The text comparison catches a would-be issuer that
 * OpenSSL's checkIssued skips for its key usage, so the role check can say what is wrong.
 */
function namesIssuer(child: Cert, issuer: Cert): boolean {
  return issuer.x509.subject === child.x509.issuer || child.x509.checkIssued(issuer.x509);
}

function signedBy(child: Cert, issuer: Cert): boolean {
  try {
    return child.x509.verify(issuer.x509.publicKey);
  } catch {
    return false;
  }
}

interface Search {
  readonly anchors: readonly Cert[];
  readonly pool: readonly Cert[];
  readonly now: Date;
  /** The most specific failure met so far, reported when no path is found. */
  reason?: string;
  /** The anchor the path ended at (absent when the last certificate is itself an anchor). */
  anchor?: Cert;
  /** Signature checks left. */
  budget: number;
}

function signedWithinBudget(search: Search, child: Cert, issuer: Cert): boolean {
  if (search.budget <= 0) return false;
  search.budget--;
  return signedBy(child, issuer);
}

/** Depth-first path building from `path`'s last certificate up to an anchor. */
function extend(search: Search, path: Cert[]): boolean {
  const current = path[path.length - 1];
  if (search.anchors.some((a) => sameDer(a.der, current.der))) return true; // the certificate is itself trusted
  const below = path.length - 1; // intermediates (and the leaf excluded) under the next issuer
  for (const anchor of search.anchors) {
    if (!namesIssuer(current, anchor)) continue;
    if (!signedWithinBudget(search, current, anchor)) {
      search.reason ??= `bad signature on "${label(current)}"`;
      continue;
    }
    const problem = checkValidity(anchor, search.now) ?? checkIssuerRole(anchor, below, true);
    if (!problem) {
      search.anchor = anchor;
      return true;
    }
    search.reason = problem;
  }
  if (path.length > MAX_PATH_INTERMEDIATES) {
    search.reason ??= 'certificate path too long';
    return false;
  }
  for (const candidate of search.pool) {
    if (path.includes(candidate) || !namesIssuer(current, candidate)) continue;
    if (!signedWithinBudget(search, current, candidate)) {
      search.reason ??= `bad signature on "${label(current)}"`;
      continue;
    }
    const problem =
      checkValidity(candidate, search.now) ??
      checkCriticalExtensions(candidate) ??
      checkIssuerRole(candidate, below, false);
    if (problem) {
      search.reason = problem;
      continue;
    }
    path.push(candidate);
    if (extend(search, path)) return true;
    path.pop();
  }
  search.reason ??= `no trusted issuer found for "${label(current)}"`;
  return false;
}

/** Name constraints of every CA on the path apply to the certificates below it. */
function checkPathNameConstraints(path: readonly Cert[]): string | undefined {
  for (let i = 1; i < path.length; i++) {
    const nc = ext(path[i], OID_NAME_CONSTRAINTS);
    if (!nc) continue;
    const constraints = parseNameConstraints(nc.value);
    for (let j = 0; j < i; j++) {
      const problem = checkNameConstraints(constraints, namesOf(path[j]));
      if (problem) return problem;
    }
  }
  return undefined;
}

function anchorsFrom(ca: string | readonly string[] | undefined): Cert[] {
  if (ca === undefined) return defaultAnchors();
  const pems = typeof ca === 'string' ? [ca] : ca;
  return pems.flatMap((pem) => parsePemChain(pem).map(parse));
}

function run(chainDer: readonly Uint8Array[], opts: VerifyServerChainOptions): ChainVerdict {
  if (chainDer.length === 0) return { ok: false, reason: 'the server sent no certificate' };
  if (chainDer.length > MAX_CHAIN_LENGTH)
    return { ok: false, reason: `chain longer than ${MAX_CHAIN_LENGTH}` };
  let certs: Cert[];
  let anchors: Cert[];
  try {
    certs = chainDer.map(parse);
  } catch (err) {
    return { ok: false, reason: `malformed certificate: ${(err as Error).message}` };
  }
  try {
    anchors = anchorsFrom(opts.ca);
  } catch (err) {
    return { ok: false, reason: `bad trust anchors: ${(err as Error).message}` };
  }
  const now = opts.now ?? new Date();
  const leaf = certs[0];
  const leafProblem = checkValidity(leaf, now) ?? checkCriticalExtensions(leaf) ?? checkLeafUsage(leaf);
  if (leafProblem) return { ok: false, reason: leafProblem };
  if (opts.serverName !== undefined && !matchesHostname(leaf.der, opts.serverName)) {
    return { ok: false, reason: `certificate does not name "${opts.serverName}"` };
  }
  const search: Search = { anchors, pool: certs.slice(1), now, budget: MAX_SIGNATURE_CHECKS };
  const path = [leaf];
  if (!extend(search, path)) {
    if (search.budget <= 0) return { ok: false, reason: 'too many candidate paths' };
    return { ok: false, reason: search.reason ?? 'no trusted path' };
  }
  const ncProblem = checkPathNameConstraints(search.anchor ? [...path, search.anchor] : path);
  return ncProblem ? { ok: false, reason: ncProblem } : { ok: true };
}

/** Verify a server's chain (leaf first, DER) against trust anchors and a name. Never throws. */
export async function verifyServerChain(
  chainDer: Uint8Array[],
  opts: VerifyServerChainOptions = {},
): Promise<ChainVerdict> {
  return verifyServerChainSync(chainDer, opts);
}

/** The same check, synchronously: the sans-I/O TLS client runs it inside its state machine. */
export function verifyServerChainSync(
  chainDer: Uint8Array[],
  opts: VerifyServerChainOptions = {},
): ChainVerdict {
  try {
    return run(chainDer, opts);
  } catch (err) {
    return { ok: false, reason: `malformed certificate: ${(err as Error).message}` };
  }
}
