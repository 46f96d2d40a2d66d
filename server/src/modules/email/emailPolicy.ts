import { Resolver } from 'node:dns/promises';
import { domainToASCII } from 'node:url';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import { IamError } from '../errors/iamError';
import { type DomainLookup, loadDisposableDomains } from './disposableDomains';

/**
 * How the domain's ability to receive mail was established: an MX record, an address record
 * standing in for one (RFC 5321 §5.1 implicit MX), not at all because DNS gave no usable
 * answer within the timeout (timeout, SERVFAIL, unreachable resolver: accepted and flagged,
 * never a hang), or not at all because the domain is allow-listed.
 */
export type EmailCheckResult = { mx: 'found' | 'fallback_a' | 'timeout' | 'skipped' };

export interface EmailPolicy {
  /**
   * Resolves when the address may be used; throws `EMAIL_DISPOSABLE` for a disposable or
   * blocked domain and `EMAIL_DOMAIN_INVALID` for one that cannot receive mail.
   */
  check(email: string): Promise<EmailCheckResult>;
}

export interface EmailPolicyDeps {
  /** `host:port` resolvers (IP addresses, e.g. `DNS_SERVERS`); undefined uses the OS resolver. */
  dnsServers?: string[];
  /** The most one check waits for DNS, all lookups included. */
  timeoutInMs?: number;
  /** How long a domain that can receive mail is remembered. */
  cacheTtlInSeconds?: number;
  /** How long a domain that cannot receive mail is remembered. */
  negativeCacheTtlInSeconds?: number;
  logger: Pick<Logger, 'warn' | 'info' | 'debug'>;
  /** Domains (and their subdomains) that skip the disposable list and DNS, e.g. internal or test domains, or a forwarding service the list names. */
  allowDomains?: string[];
  /** Domains (and their subdomains) refused as disposable on top of the maintained list; they win over `allowDomains`. */
  blockDomains?: string[];
  /** Ask DNS whether the domain accepts mail (default true); the disposable list applies either way. */
  mxCheck?: boolean;
}

const defaultTimeoutInMs = 2_000;
const defaultCacheTtlInSeconds = 3_600;
const defaultNegativeCacheTtlInSeconds = 300;
const cacheMaxEntries = 10_000;

/** What DNS said about a domain; only definite answers are cached. */
type Lookup =
  | { outcome: 'found' | 'fallback_a' }
  | { outcome: 'no_mail'; reason: 'nxdomain' | 'null_mx' | 'no_records' }
  | { outcome: 'unreachable'; reason: string };

/** RFC 1035 §2.3.4 and RFC 1123 §2.1: letters, digits and inner hyphens, 63 octets a label, 253 a name. */
const labelPattern = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const maxDomainLength = 253;

export function createEmailPolicy(deps: EmailPolicyDeps): EmailPolicy {
  const timeoutInMs = deps.timeoutInMs ?? defaultTimeoutInMs;
  const positiveTtlInMs = (deps.cacheTtlInSeconds ?? defaultCacheTtlInSeconds) * 1_000;
  const negativeTtlInMs = (deps.negativeCacheTtlInSeconds ?? defaultNegativeCacheTtlInSeconds) * 1_000;
  const allowed = domainSet(deps.allowDomains ?? [], 'allowDomains');
  const blocked = domainSet(deps.blockDomains ?? [], 'blockDomains');
  const disposable = loadDisposableDomains();
  const servers = deps.dnsServers?.length ? [...deps.dnsServers] : undefined;
  // Invalid server entries fail here, at start-up, rather than on the first sign-up.
  if (servers) new Resolver().setServers(servers);

  const cache = new LRUCache<string, Lookup>({ max: cacheMaxEntries });
  // Concurrent checks of one domain share one lookup.
  const inFlight = new Map<string, Promise<Lookup>>();

  async function lookUp(domain: string): Promise<Lookup> {
    const cached = cache.get(domain);
    if (cached) return cached;
    let pending = inFlight.get(domain);
    if (!pending) {
      pending = resolveMailDomain(domain, { servers, timeoutInMs }).finally(() => inFlight.delete(domain));
      inFlight.set(domain, pending);
    }
    const lookup = await pending;
    if (!cache.has(domain)) {
      const ttl = lookup.outcome === 'unreachable' ? 0 : lookup.outcome === 'no_mail' ? negativeTtlInMs : positiveTtlInMs;
      // lru-cache reads a ttl of 0 as "forever": a zero TTL means not cached at all.
      if (ttl > 0) cache.set(domain, lookup, { ttl });
    }
    return lookup;
  }

  return {
    async check(email) {
      const domain = mailDomain(email);
      if (domain === null) throw new IamError('EMAIL_DOMAIN_INVALID');
      // Operator blocks win over operator allowances, which win over the maintained list.
      const allowedDomain = !matches(domain, blocked) && matches(domain, allowed);
      if (!allowedDomain && (matches(domain, blocked) || matches(domain, disposable))) {
        deps.logger.info({ domain, reason: 'disposable' }, 'email domain refused');
        throw new IamError('EMAIL_DISPOSABLE');
      }
      if (allowedDomain || deps.mxCheck === false) return { mx: 'skipped' };

      const lookup = await lookUp(domain);
      switch (lookup.outcome) {
        case 'found':
        case 'fallback_a':
          return { mx: lookup.outcome };
        case 'no_mail':
          deps.logger.info({ domain, reason: lookup.reason }, 'email domain refused');
          throw new IamError('EMAIL_DOMAIN_INVALID');
        case 'unreachable':
          // `reason`, not `code`: the logger redacts `code` keys.
          deps.logger.warn({ domain, reason: lookup.reason, timeoutInMs }, 'MX lookup gave no answer; address accepted unverified');
          return { mx: 'timeout' };
      }
    },
  };
}

/**
 * The ASCII (IDNA) form of an address's domain, lowercased, or null when it is not a domain
 * that mail could be addressed to (no dot, an address literal, a numeric last label, labels
 * that are not letters, digits and hyphens, or an IDN that does not convert).
 */
function mailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  if (at === -1) return null;
  return asciiDomain(email.slice(at + 1));
}

function asciiDomain(domain: string): string | null {
  const trimmed = domain.trim().normalize('NFC').toLowerCase();
  // `domainToASCII` accepts a trailing dot, address literals and IPv4 forms (`0x7f.1`); mail domains are none of these.
  if (trimmed === '' || trimmed.endsWith('.') || trimmed.startsWith('[')) return null;
  const ascii = domainToASCII(trimmed);
  if (ascii === '' || ascii.length > maxDomainLength) return null;
  const labels = ascii.split('.');
  if (labels.length < 2 || !labels.every((label) => labelPattern.test(label))) return null;
  // No top-level domain is all digits (RFC 3696 §2), so a numeric last label is an IP address.
  if (/^[0-9]+$/.test(labels.at(-1) ?? '')) return null;
  return ascii;
}

function domainSet(domains: string[], option: string): ReadonlySet<string> {
  const set = new Set<string>();
  for (const domain of domains) {
    const ascii = asciiDomain(domain);
    if (ascii === null) throw new Error(`${option}: not a domain: ${JSON.stringify(domain)}`);
    set.add(ascii);
  }
  return set;
}

/** The domain or one of its parents is in the set (`a.b.mailinator.com` matches `mailinator.com`). */
function matches(domain: string, set: DomainLookup): boolean {
  for (let suffix = domain; ; ) {
    if (set.has(suffix)) return true;
    const dot = suffix.indexOf('.');
    if (dot === -1) return false;
    suffix = suffix.slice(dot + 1);
  }
}

/** DNS answers that say the name does not exist or has no record of the asked type. */
const absentCodes = new Set(['ENOTFOUND', 'ENODATA']);

/**
 * Whether the domain accepts mail: its MX records, or without any, an A or AAAA record
 * (RFC 5321 §5.1). A null MX (RFC 7505: one record, priority 0, exchange `.`) says it accepts
 * none. A name that does not exist (NXDOMAIN) has no other records either (RFC 8020), so it
 * is not asked about again. Every other failure (timeout, SERVFAIL, refused, unreachable
 * resolver) is `unreachable`: the address is accepted unverified rather than refused for a
 * resolver's fault, and never waits longer than `timeoutInMs`, whatever c-ares does with its
 * own per-server timeouts.
 */
async function resolveMailDomain(domain: string, options: { servers: string[] | undefined; timeoutInMs: number }): Promise<Lookup> {
  // One resolver per lookup, so that cancelling it on timeout cancels only this lookup's queries.
  const resolver = new Resolver({ timeout: options.timeoutInMs, tries: 1 });
  if (options.servers) resolver.setServers(options.servers);

  let cancelled = false;
  const lookup = (async (): Promise<Lookup> => {
    try {
      const records = await resolver.resolveMx(domain);
      // Node reports the root exchange of a null MX as ''.
      const usable = records.filter(({ exchange }) => exchange !== '' && exchange !== '.');
      return usable.length > 0 ? { outcome: 'found' } : { outcome: 'no_mail', reason: 'null_mx' };
    } catch (error) {
      const code = errorCode(error);
      if (code === 'ENOTFOUND') return { outcome: 'no_mail', reason: 'nxdomain' };
      if (code !== 'ENODATA') return { outcome: 'unreachable', reason: code ?? 'unknown' };
    }
    if (cancelled) return { outcome: 'unreachable', reason: 'deadline' };
    const addresses = await Promise.allSettled([resolver.resolve4(domain), resolver.resolve6(domain)]);
    if (addresses.some((result) => result.status === 'fulfilled' && result.value.length > 0)) return { outcome: 'fallback_a' };
    for (const result of addresses) {
      const code = result.status === 'rejected' ? errorCode(result.reason) : undefined;
      if (result.status === 'rejected' && !absentCodes.has(code ?? '')) return { outcome: 'unreachable', reason: code ?? 'unknown' };
    }
    return { outcome: 'no_mail', reason: 'no_records' };
  })();

  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<Lookup>((resolve) => {
    timer = setTimeout(() => resolve({ outcome: 'unreachable', reason: 'deadline' }), options.timeoutInMs);
  });
  try {
    return await Promise.race([lookup, deadline]);
  } finally {
    clearTimeout(timer);
    cancelled = true;
    // Outstanding queries end with ECANCELLED, which `lookup` turns into an outcome nobody awaits.
    resolver.cancel();
  }
}

function errorCode(error: unknown): string | undefined {
  return typeof error === 'object' && error !== null && 'code' in error && typeof error.code === 'string' ? error.code : undefined;
}
