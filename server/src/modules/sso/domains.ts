import { Resolver } from 'node:dns/promises';
import { and, asc, eq, isNotNull } from 'drizzle-orm';
import { type Database, type Executor, isDuplicateKeyError, runTransaction } from '../../db/client';
import { organizationDomains } from '../../db/tables';
import type { Clock } from '../clock';
import { randomToken } from '../crypto/random';
import type { ClientInfo } from '../devices/clientInfo';
import { loadDisposableDomains } from '../email/disposableDomains';
import { IamError } from '../errors/iamError';
import { audit, lockOrganization, requireManager } from '../orgs/orgs';

/**
 * Verified email domains (docs/api.md, sso.domains). An organization proves it controls a
 * domain by publishing a random value in a TXT record at `_iam-challenge.<domain>` (the
 * DNS-based proof of control of RFC 8555 §8.4 and the CA/B Forum's "DNS change" method):
 * only someone who runs the domain's DNS can. A verified domain is what lets the
 * organization vouch for addresses under it (JIT accounts, linking, required SSO); until it
 * is verified it vouches for nothing.
 */

export interface SsoActor {
  userId: string;
  sessionId: string;
  client: ClientInfo;
}

export interface DomainDeps {
  db: Database;
  clock: Clock;
  /** `host:port` resolvers (the service's `dnsServers`); undefined uses the OS resolver. */
  dnsServers: readonly string[] | undefined;
  dnsTimeoutInMs?: number;
}

export const challengeLabel = '_iam-challenge';
export const txtValuePrefix = 'iam-domain-verification=';
/** 256 bits from a CSPRNG: a value nobody can publish before reading it here. */
const txtValueBytes = 32;
const defaultDnsTimeoutInMs = 3_000;

/**
 * Free-mail providers: no organization owns their users. Refused even where an organization
 * could publish records (they are anyone's addresses), on top of the disposable list.
 */
const freeMailDomains = new Set([
  'gmail.com',
  'googlemail.com',
  'outlook.com',
  'hotmail.com',
  'live.com',
  'msn.com',
  'yahoo.com',
  'ymail.com',
  'icloud.com',
  'me.com',
  'mac.com',
  'aol.com',
  'proton.me',
  'protonmail.com',
  'gmx.com',
  'gmx.de',
  'gmx.net',
  'web.de',
  'mail.com',
  'yandex.com',
  'yandex.ru',
  'mail.ru',
  'zoho.com',
  'qq.com',
  '163.com',
  'fastmail.com',
]);

/**
 * Public suffixes under which anyone registers names (Mozilla's Public Suffix List, its
 * common multi-label entries): claiming one would claim every registrant's domain. A
 * single-label name (a TLD) never passes the domain schema.
 */
const publicSuffixes = new Set([
  'co.uk',
  'org.uk',
  'ac.uk',
  'gov.uk',
  'me.uk',
  'ltd.uk',
  'plc.uk',
  'com.au',
  'net.au',
  'org.au',
  'co.nz',
  'co.jp',
  'ne.jp',
  'or.jp',
  'co.kr',
  'com.br',
  'com.cn',
  'com.mx',
  'co.in',
  'co.za',
  'com.tr',
  'com.sg',
  'com.hk',
  'github.io',
  'herokuapp.com',
  'vercel.app',
  'netlify.app',
  'pages.dev',
  'workers.dev',
  'appspot.com',
  'blogspot.com',
  'azurewebsites.net',
  'cloudfront.net',
  'amazonaws.com',
  'firebaseapp.com',
  'web.app',
]);

function matchesSuffixOf(domain: string, set: { has(domain: string): boolean }): boolean {
  for (let suffix = domain; ; ) {
    if (set.has(suffix)) return true;
    const dot = suffix.indexOf('.');
    if (dot === -1) return false;
    suffix = suffix.slice(dot + 1);
  }
}

/** `SSO_DOMAIN_REFUSED` for a public suffix, a free-mail or a disposable domain (or any name under one). */
export function assertClaimableDomain(domain: string): void {
  if (publicSuffixes.has(domain) || matchesSuffixOf(domain, freeMailDomains) || matchesSuffixOf(domain, loadDisposableDomains())) {
    throw new IamError('SSO_DOMAIN_REFUSED');
  }
}

export interface DomainView {
  domain: string;
  txtName: string;
  txtValue: string;
  verified: boolean;
  verifiedAt: Date | null;
  createdAt: Date;
}

function viewOf(row: typeof organizationDomains.$inferSelect): DomainView {
  return {
    domain: row.domain,
    txtName: `${challengeLabel}.${row.domain}`,
    txtValue: row.txtValue,
    verified: row.verifiedDomain !== null,
    verifiedAt: row.verifiedAt,
    createdAt: row.createdAt,
  };
}

/** `sso.domains.add`: claims a domain for verification (admins and the owner). Adding it again answers the same record. */
export async function addDomain(deps: DomainDeps, actor: SsoActor, input: { organizationId: string; domain: string }): Promise<DomainView> {
  assertClaimableDomain(input.domain);
  const now = deps.clock.now();
  return runTransaction(deps.db, async (tx) => {
    await lockOrganization(tx, input.organizationId, now);
    await requireManager(tx, input.organizationId, actor.userId);
    const key = and(eq(organizationDomains.organizationId, input.organizationId), eq(organizationDomains.domain, input.domain));
    const [existing] = await tx.select().from(organizationDomains).where(key).limit(1);
    if (existing) return viewOf(existing);
    const row = {
      organizationId: input.organizationId,
      domain: input.domain,
      txtValue: `${txtValuePrefix}${randomToken(txtValueBytes)}`,
      createdAt: now,
      verifiedAt: null,
      verifiedDomain: null,
    };
    await tx.insert(organizationDomains).values(row);
    await audit(tx, actor, input.organizationId, { type: 'org.updated', at: now, data: { sso: 'domain_added', domain: input.domain } });
    return viewOf(row);
  });
}

/** `sso.domains.list`: the organization's domains (admins and the owner). */
export async function listDomains(
  deps: Pick<DomainDeps, 'db'>,
  actor: SsoActor,
  organizationId: string,
): Promise<{ domains: DomainView[] }> {
  await requireManager(deps.db, organizationId, actor.userId);
  const rows = await deps.db
    .select()
    .from(organizationDomains)
    .where(eq(organizationDomains.organizationId, organizationId))
    .orderBy(asc(organizationDomains.domain));
  return { domains: rows.map(viewOf) };
}

/** `sso.domains.remove`: forgets a domain, verified or not (admins and the owner). */
export async function removeDomain(
  deps: Pick<DomainDeps, 'db' | 'clock'>,
  actor: SsoActor,
  input: { organizationId: string; domain: string },
): Promise<{ status: 'removed' }> {
  const now = deps.clock.now();
  return runTransaction(deps.db, async (tx) => {
    await lockOrganization(tx, input.organizationId, now);
    await requireManager(tx, input.organizationId, actor.userId);
    const [result] = await tx
      .delete(organizationDomains)
      .where(and(eq(organizationDomains.organizationId, input.organizationId), eq(organizationDomains.domain, input.domain)));
    if (result.affectedRows === 0) throw new IamError('NOT_FOUND');
    await audit(tx, actor, input.organizationId, { type: 'org.updated', at: now, data: { sso: 'domain_removed', domain: input.domain } });
    return { status: 'removed' };
  });
}

/**
 * `sso.domains.verify`: looks the TXT record up and, when one carries the value exactly,
 * marks the domain verified. Setting `verified_domain` is the decision: its unique index
 * refuses a second organization (`SSO_DOMAIN_TAKEN`), also when two verify at once on two
 * cluster nodes. No record, another value, NXDOMAIN or a DNS failure: `SSO_DOMAIN_NOT_VERIFIED`,
 * nothing changed.
 */
export async function verifyDomain(
  deps: DomainDeps,
  actor: SsoActor,
  input: { organizationId: string; domain: string },
): Promise<DomainView> {
  await requireManager(deps.db, input.organizationId, actor.userId);
  const key = and(eq(organizationDomains.organizationId, input.organizationId), eq(organizationDomains.domain, input.domain));
  const [row] = await deps.db.select().from(organizationDomains).where(key).limit(1);
  if (!row) throw new IamError('NOT_FOUND');
  if (row.verifiedDomain !== null) return viewOf(row);
  // Taken by another organization already: said before DNS is asked (the holder is public in DNS anyway).
  const [holder] = await deps.db
    .select({ organizationId: organizationDomains.organizationId })
    .from(organizationDomains)
    .where(eq(organizationDomains.verifiedDomain, input.domain))
    .limit(1);
  if (holder) throw new IamError('SSO_DOMAIN_TAKEN');
  const values = await lookUpTxt(deps, `${challengeLabel}.${input.domain}`);
  if (!values.includes(row.txtValue)) throw new IamError('SSO_DOMAIN_NOT_VERIFIED');
  const now = deps.clock.now();
  try {
    return await runTransaction(deps.db, async (tx) => {
      await lockOrganization(tx, input.organizationId, now);
      await requireManager(tx, input.organizationId, actor.userId);
      const [result] = await tx.update(organizationDomains).set({ verifiedAt: now, verifiedDomain: input.domain }).where(key);
      if (result.affectedRows === 0) throw new IamError('NOT_FOUND');
      await audit(tx, actor, input.organizationId, {
        type: 'org.updated',
        at: now,
        data: { sso: 'domain_verified', domain: input.domain },
      });
      return viewOf({ ...row, verifiedAt: now, verifiedDomain: input.domain });
    });
  } catch (error) {
    if (isDuplicateKeyError(error)) throw new IamError('SSO_DOMAIN_TAKEN');
    throw error;
  }
}

/** The TXT strings at a name (each record's strings joined, RFC 7208 §3.3 style); empty when there are none or DNS fails. */
async function lookUpTxt(deps: Pick<DomainDeps, 'dnsServers' | 'dnsTimeoutInMs'>, name: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: deps.dnsTimeoutInMs ?? defaultDnsTimeoutInMs, tries: 2 });
  if (deps.dnsServers?.length) resolver.setServers([...deps.dnsServers]);
  try {
    const records = await resolver.resolveTxt(name);
    return records.map((chunks) => chunks.join(''));
  } catch {
    return [];
  } finally {
    resolver.cancel();
  }
}

/** The address's domain, lower-cased, or null. */
export function domainOfEmail(email: string): string | null {
  const at = email.lastIndexOf('@');
  if (at === -1) return null;
  const domain = email
    .slice(at + 1)
    .trim()
    .toLowerCase()
    .replace(/\.$/, '');
  return domain.length > 0 ? domain : null;
}

/** The organization that verified the address's domain (exactly that domain), or null. */
export async function organizationOfEmail(executor: Executor, email: string): Promise<string | null> {
  const domain = domainOfEmail(email);
  if (!domain) return null;
  const [row] = await executor
    .select({ organizationId: organizationDomains.organizationId })
    .from(organizationDomains)
    .where(and(eq(organizationDomains.verifiedDomain, domain), isNotNull(organizationDomains.verifiedAt)))
    .limit(1);
  return row?.organizationId ?? null;
}

/** Whether the organization verified the address's domain. */
export async function isVerifiedDomainOf(executor: Executor, organizationId: string, email: string): Promise<boolean> {
  return (await organizationOfEmail(executor, email)) === organizationId;
}

/** Whether the organization holds at least one verified domain. */
export async function hasVerifiedDomain(executor: Executor, organizationId: string): Promise<boolean> {
  const [row] = await executor
    .select({ domain: organizationDomains.domain })
    .from(organizationDomains)
    .where(and(eq(organizationDomains.organizationId, organizationId), isNotNull(organizationDomains.verifiedDomain)))
    .limit(1);
  return row !== undefined;
}
