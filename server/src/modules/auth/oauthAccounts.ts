import { and, eq, gt, inArray, isNull, or } from 'drizzle-orm';
import { isDuplicateKeyError, runTransaction, type Transaction } from '../../db/client';
import { oauthAccounts, oauthLinkTokens, organizations, passkeys, ssoConnections, type UserRow, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import { addSeconds } from '../clock';
import { sha256Hex } from '../crypto/hash';
import { randomToken } from '../crypto/random';
import { canaryHash } from '../devices/canary';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { linkTokenBytes } from '../links/links';
import { connectionIdOf, findConnection } from '../oauth/connections';
import type { OAuthProfile } from '../oauth/profile';
import type { ProviderDefinition } from '../oauth/providers';
import { joinOrganizationViaSso, setActiveOrganization } from '../orgs/orgs';
import type { CreatedSession } from '../sessions/sessions';
import { isVerifiedDomainOf } from '../sso/domains';
import { assertSsoNotRequired, ssoRequiredBy } from '../sso/policy';
import type { OrganizationRole } from '../tokens/accessToken';
import { claimAccount, createUser, findUserByEmail, findUserById } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import type { LoginChallenge } from './loginChallenge';
import type { Services } from './services';
import { type Admission, admitSignIn, admittedVerdict, challengeSignIn, completeSignIn, openSession, type SignedIn } from './signIn';

/** docs/api.md: the provider identity waits for the owner of the account to sign in and attach it. */
export interface LinkRequired {
  status: 'link_required';
  provider: string;
  /** The address the provider gave, or null when it gave none. */
  email: string | null;
  linkToken: string;
}

export type OAuthSignInResult = SignedIn | LoginChallenge | LinkRequired;

/** docs/api.md: magic links live at most 30 minutes; a link token is one. 256 bits, only the hash kept. */
const maxLinkTokenTtlInSeconds = 30 * 60;

export function hashOAuthLinkToken(token: string): string {
  return sha256Hex(`oauth-link:${token}`);
}

type Resolution =
  | { kind: 'user'; user: UserRow; session: CreatedSession & { organization?: { id: string; role: OrganizationRole } | null } }
  | { kind: 'challenge'; user: UserRow; admission: Extract<Admission, { kind: 'challenge' }> }
  | { kind: 'link'; userId: string | null }
  | { kind: 'sso_required'; user: UserRow; organizationId: string };

/**
 * Who a provider identity is, and the sign-in that follows. Accounts are found by (provider,
 * subject) only, never by address alone (OpenID Connect Core §5.7: `email` is not a stable
 * identifier). For an identity seen for the first time:
 * - the address belongs to an account: the identity joins it only when the provider asserts
 *   the address verified AND the account's own address is verified; otherwise the answer is
 *   `link_required`, and the owner proves control by signing in first (no takeover through a
 *   provider that hands out unverified addresses, no pre-hijacking through an unverified
 *   local account);
 * - the address is new and verified: a verified account without a password is created;
 * - no verified address: `link_required` too — an account is never created for an address
 *   nobody proved, and the answer does not reveal whether the address is registered.
 * A sign-in then passes the gate every method does (`admitSignIn`: the sign-in checks and an
 * enrolled authenticator), and opens a session on the device, with a new-device alert.
 * The sign-in that creates the account has no history to be judged by.
 */
export async function signInWithProvider(
  services: Services,
  provider: Pick<ProviderDefinition, 'id'>,
  profile: OAuthProfile,
  client: ClientInfo,
): Promise<OAuthSignInResult> {
  const resolution = await resolveWithRetry(services, provider, profile, client);
  if (resolution.kind === 'link') {
    return issueLinkToken(services, provider, profile, resolution.userId, client);
  }
  if (resolution.kind === 'sso_required') {
    // Another provider (or another organization's connection) for a member whose organization requires its own SSO.
    await assertSsoNotRequired(services.db, resolution.user, { method: 'oauth', client, now: services.clock.now() });
    throw new IamError('SSO_REQUIRED', { organizationId: resolution.organizationId });
  }
  // NIST SP 800-63B §4.2.1 (AAL2): a provider sign-in is one factor; an enrolled authenticator,
  // or the sign-in checks' doubt, asks for the second.
  if (resolution.kind === 'challenge') return challengeSignIn(services, resolution.user, client, resolution.admission, 'oauth');
  return completeSignIn(services, resolution.user, resolution.session);
}

async function resolveWithRetry(
  services: Services,
  provider: Pick<ProviderDefinition, 'id'>,
  profile: OAuthProfile,
  client: ClientInfo,
): Promise<Resolution> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await runTransaction(services.db, (tx) => resolve(services, tx, provider, profile, client));
    } catch (error) {
      // A parallel callback created the same user or link first: the next attempt finds it.
      if (attempt >= 3 || !isDuplicateKeyError(error)) throw error;
    }
  }
}

/**
 * An organization's SSO connection behind a provider, and whether the organization verified
 * the domain of the address its identity provider gave. An organization's identity provider
 * is trusted for addresses at its own verified domains only: anyone can run an OpenID Provider
 * that asserts any address, so outside them it vouches for nothing (no account made, no
 * account joined by address; OpenID Connect Core §5.7: `email` is not an identifier, and
 * OWASP ASVS 4.0 V2.5/V3.x account-linking guidance).
 */
interface SsoContext {
  organizationId: string;
  atVerifiedDomain: boolean;
}

async function ssoContextOf(tx: Transaction, provider: Pick<ProviderDefinition, 'id'>, profile: OAuthProfile): Promise<SsoContext | null> {
  const connectionId = connectionIdOf(provider.id);
  if (!connectionId) return null;
  const connection = await findConnection(tx, connectionId);
  // The connection went while the person was at the provider: its flow is over.
  if (!connection) throw new IamError('OAUTH_STATE_INVALID');
  const atVerifiedDomain = profile.email !== null && (await isVerifiedDomainOf(tx, connection.organizationId, profile.email));
  return { organizationId: connection.organizationId, atVerifiedDomain };
}

async function resolve(
  services: Services,
  tx: Transaction,
  provider: Pick<ProviderDefinition, 'id'>,
  profile: OAuthProfile,
  client: ClientInfo,
): Promise<Resolution> {
  const now = services.clock.now();
  const sso = await ssoContextOf(tx, provider, profile);
  const identity = and(eq(oauthAccounts.provider, provider.id), eq(oauthAccounts.subject, profile.subject));
  const [account] = await tx.select().from(oauthAccounts).where(identity).limit(1);
  if (account) {
    const user = await findUserById(tx, account.userId);
    if (user) {
      await tx.update(oauthAccounts).set({ lastUsedAt: now, email: profile.email }).where(identity);
      return signIn(services, tx, user, provider, client, { linked: false, created: false, sso });
    }
    // The account is gone: the identity is free again.
    await tx.delete(oauthAccounts).where(identity);
  }

  const owner = profile.email ? await findUserByEmail(tx, profile.email) : null;
  if (sso) {
    // Outside the organization's verified domains: nothing is joined or created by address.
    if (!sso.atVerifiedDomain) return { kind: 'link', userId: owner?.id ?? null };
    if (owner) {
      // The organization vouches for its domain; an account whose own address nobody proved
      // may be someone else's pre-registration, so it still links by signing in first.
      if (owner.emailVerifiedAt === null) return { kind: 'link', userId: owner.id };
      await assertNoOtherIdentity(tx, owner.id, provider.id);
      await insertAccount(services, tx, owner.id, provider, profile, client, 'verified_domain');
      return signIn(services, tx, owner, provider, client, { linked: true, created: false, sso });
    }
  } else if (owner) {
    if (!profile.emailVerified || owner.emailVerifiedAt === null) return { kind: 'link', userId: owner.id };
    await assertNoOtherIdentity(tx, owner.id, provider.id);
    await insertAccount(services, tx, owner.id, provider, profile, client, 'verified_email');
    return signIn(services, tx, owner, provider, client, { linked: true, created: false, sso });
  }

  if (!profile.email) return { kind: 'link', userId: null };
  if (!sso && !profile.emailVerified) return { kind: 'link', userId: null };
  // Through SSO at a verified domain the account is made; its address counts as verified only
  // when the identity provider says it verified it, too.
  const emailVerified = profile.emailVerified;
  const user = await createUser(
    tx,
    { email: profile.email, name: profile.name, passwordHash: null, emailVerifiedAt: emailVerified ? now : null },
    { now, client, auditData: { provider: provider.id } },
  );
  await emitSecurityEvent(
    services,
    tx,
    { type: 'user.created', userId: user.id, data: { email: user.email, emailVerified, method: 'oauth', provider: provider.id } },
    now,
  );
  await insertAccount(services, tx, user.id, provider, profile, client, 'new_user');
  return signIn(services, tx, user, provider, client, { linked: true, created: true, sso });
}

async function signIn(
  services: Services,
  tx: Transaction,
  user: UserRow,
  provider: Pick<ProviderDefinition, 'id'>,
  client: ClientInfo,
  detail: { linked: boolean; created: boolean; sso: SsoContext | null },
): Promise<Resolution> {
  const now = services.clock.now();
  // Required SSO: only the organization's own connection signs its members at its domains in.
  const required = await ssoRequiredBy(tx, user);
  if (required && required !== detail.sso?.organizationId) return { kind: 'sso_required', user, organizationId: required };
  // JIT membership: an address at the organization's verified domain, through its own connection.
  const organizationRole =
    detail.sso?.atVerifiedDomain === true
      ? await joinOrganizationViaSso(tx, { organizationId: detail.sso.organizationId, userId: user.id, now, client })
      : null;
  const admission: Admission = detail.created
    ? { kind: 'open', verdict: { decision: 'pass', reasons: [], logged: [], evidence: {}, at: now.toISOString() } }
    : await admitSignIn(services, tx, user, client);
  if (admission.kind === 'challenge') return { kind: 'challenge', user, admission };
  // The sign-in that creates the account is its sign-up: the provider verified the address,
  // as the code does for a password sign-up, and the device is trusted as it would be then.
  const session = await openSession(services, tx, user, client, { trusted: detail.created, verdict: admittedVerdict(admission.verdict) });
  await recordAudit(tx, {
    type: 'login.succeeded',
    at: services.clock.now(),
    userId: user.id,
    sessionId: session.sessionId,
    client,
    data: {
      method: 'oauth',
      provider: provider.id,
      linked: detail.linked,
      ...(detail.sso ? { organizationId: detail.sso.organizationId } : {}),
      ...(admission.verdict.logged.length > 0 ? { logged: admission.verdict.logged } : {}),
    },
  });
  if (detail.sso && organizationRole) {
    // The session acts in the organization: its token carries `org` and `org_role`.
    await setActiveOrganization(tx, session.sessionId, detail.sso.organizationId);
    return { kind: 'user', user, session: { ...session, organization: { id: detail.sso.organizationId, role: organizationRole } } };
  }
  return { kind: 'user', user, session };
}

/** A SAML connection's provider (not in the OAuth registry: its flow is samlFlow's), or null. */
async function samlConnectionProvider(tx: Transaction, providerId: string): Promise<Pick<ProviderDefinition, 'id'> | null> {
  const connectionId = connectionIdOf(providerId);
  const connection = connectionId ? await findConnection(tx, connectionId) : null;
  return connection?.type === 'saml' ? { id: providerId } : null;
}

async function assertNoOtherIdentity(tx: Transaction, userId: string, providerId: string): Promise<void> {
  const [existing] = await tx
    .select({ subject: oauthAccounts.subject })
    .from(oauthAccounts)
    .where(and(eq(oauthAccounts.userId, userId), eq(oauthAccounts.provider, providerId)))
    .limit(1);
  if (existing) throw new IamError('OAUTH_ACCOUNT_LINKED');
}

async function insertAccount(
  services: Services,
  tx: Transaction,
  userId: string,
  provider: Pick<ProviderDefinition, 'id'>,
  profile: { subject: string; email: string | null },
  client: ClientInfo | undefined,
  how: 'verified_email' | 'verified_domain' | 'new_user' | 'link_token',
): Promise<void> {
  const now = services.clock.now();
  await tx.insert(oauthAccounts).values({
    provider: provider.id,
    subject: profile.subject,
    userId,
    email: profile.email,
    createdAt: now,
    lastUsedAt: how === 'link_token' ? null : now,
  });
  await recordAudit(tx, { type: 'oauth.linked', at: now, userId, client, data: { provider: provider.id, how } });
}

async function issueLinkToken(
  services: Services,
  provider: Pick<ProviderDefinition, 'id'>,
  profile: OAuthProfile,
  userId: string | null,
  client: ClientInfo,
): Promise<LinkRequired> {
  const token = randomToken(linkTokenBytes);
  const now = services.clock.now();
  await services.db.insert(oauthLinkTokens).values({
    tokenHash: hashOAuthLinkToken(token),
    provider: provider.id,
    subject: profile.subject,
    email: profile.email,
    userId,
    canaryHash: client.canary ? canaryHash(client.canary) : null,
    createdAt: now,
    expiresAt: addSeconds(now, Math.min(services.settings.lifetimes.linkTtlInSeconds, maxLinkTokenTtlInSeconds)),
  });
  return { status: 'link_required', provider: provider.id, email: profile.email, linkToken: token };
}

/**
 * `oauth.link`: attaches the identity of a `link_required` answer to the signed-in user. The
 * token works once, within 30 minutes, from the browser that met the provider, and only for
 * the account that owns the address (when one did): a token lured into another browser or
 * another account links nothing.
 */
export async function linkWithToken(
  services: Services,
  input: { linkToken: string; userId: string },
  client: ClientInfo,
): Promise<{ status: 'linked'; provider: string; email: string | null }> {
  const tokenHash = hashOAuthLinkToken(input.linkToken);
  const browser = client.canary ? canaryHash(client.canary) : null;
  return runTransaction(services.db, async (tx) => {
    const now = services.clock.now();
    const [spent] = await tx
      .update(oauthLinkTokens)
      .set({ usedAt: now })
      .where(
        and(
          eq(oauthLinkTokens.tokenHash, tokenHash),
          isNull(oauthLinkTokens.usedAt),
          gt(oauthLinkTokens.expiresAt, now),
          or(isNull(oauthLinkTokens.userId), eq(oauthLinkTokens.userId, input.userId)),
          browser ? eq(oauthLinkTokens.canaryHash, browser) : isNull(oauthLinkTokens.canaryHash),
        ),
      );
    if (spent.affectedRows !== 1) throw new IamError('LINK_INVALID');
    const [row] = await tx.select().from(oauthLinkTokens).where(eq(oauthLinkTokens.tokenHash, tokenHash)).limit(1);
    const provider = row
      ? ((await services.oauth.registry.resolve(row.provider)) ?? (await samlConnectionProvider(tx, row.provider)))
      : null;
    if (!row || !provider) throw new IamError('LINK_INVALID');
    // Serialises links and unlinks of one user, on every cluster node too (the row is written).
    await claimAccount(tx, input.userId, services.clock.now());
    const [existing] = await tx
      .select()
      .from(oauthAccounts)
      .where(and(eq(oauthAccounts.provider, row.provider), eq(oauthAccounts.subject, row.subject)))
      .limit(1);
    if (existing) {
      if (existing.userId !== input.userId) throw new IamError('OAUTH_ACCOUNT_LINKED');
      return { status: 'linked', provider: row.provider, email: row.email };
    }
    await assertNoOtherIdentity(tx, input.userId, row.provider);
    await insertAccount(services, tx, input.userId, provider, row, client, 'link_token');
    return { status: 'linked', provider: row.provider, email: row.email };
  });
}

export interface LinkedAccount {
  provider: string;
  /** The provider's display name (the id when it is no longer configured). */
  name: string;
  email: string | null;
  linkedAt: Date;
  lastUsedAt: Date | null;
}

/** `oauth.accounts`: the signed-in user's provider identities; an organization's connection is named after the organization. */
export async function listLinkedAccounts(services: Services, userId: string): Promise<LinkedAccount[]> {
  const rows = await services.db.select().from(oauthAccounts).where(eq(oauthAccounts.userId, userId));
  const connectionIds = rows.flatMap((row) => connectionIdOf(row.provider) ?? []);
  const organizationNames = new Map(
    connectionIds.length === 0
      ? []
      : (
          await services.db
            .select({ id: ssoConnections.id, name: organizations.name })
            .from(ssoConnections)
            .innerJoin(organizations, eq(organizations.id, ssoConnections.organizationId))
            .where(inArray(ssoConnections.id, connectionIds))
        ).map((row) => [row.id, row.name]),
  );
  const nameOf = (provider: string): string => {
    const connectionId = connectionIdOf(provider);
    const organization = connectionId ? organizationNames.get(connectionId) : undefined;
    if (organization) return `${organization} (single sign-on)`;
    return services.oauth.registry.get(provider)?.name ?? provider;
  };
  return rows
    .map((row) => ({
      provider: row.provider,
      name: nameOf(row.provider),
      email: row.email,
      linkedAt: row.createdAt,
      lastUsedAt: row.lastUsedAt,
    }))
    .sort((a, b) => a.linkedAt.getTime() - b.linkedAt.getTime());
}

/** Whether a linked identity still signs in: a configured provider, or an organization's usable OIDC or SAML connection. */
async function stillSignsIn(services: Services, tx: Transaction, providerId: string): Promise<boolean> {
  if (services.oauth.registry.get(providerId)) return true;
  if (!connectionIdOf(providerId)) return false;
  return (await services.oauth.registry.resolve(providerId)) !== null || (await samlConnectionProvider(tx, providerId)) !== null;
}

/**
 * `oauth.unlink`: detaches a provider identity, unless it is the last way to sign in: the
 * account keeps a password, a passkey, or another provider that still signs in (a configured
 * one, or an organization's connection; a provider no longer configured signs nobody in). The user's row is locked so two parallel unlinks cannot both pass.
 */
export async function unlinkProvider(
  services: Services,
  input: { userId: string; provider: string },
  client: ClientInfo,
): Promise<{ status: 'unlinked' }> {
  return runTransaction(services.db, async (tx) => {
    // The account taken (written) first: an unlink and another change of its ways in, on any
    // node, take turns, so the last way in is never removed twice over.
    if (!(await claimAccount(tx, input.userId, services.clock.now()))) throw new IamError('UNAUTHENTICATED');
    const [user] = await tx.select({ passwordHash: users.passwordHash }).from(users).where(eq(users.id, input.userId)).limit(1);
    if (!user) throw new IamError('UNAUTHENTICATED');
    const linked = await tx.select().from(oauthAccounts).where(eq(oauthAccounts.userId, input.userId));
    const target = linked.find((row) => row.provider === input.provider);
    if (!target) throw new IamError('NOT_FOUND', { message: 'This sign-in provider is not linked.' });
    const others = [];
    for (const row of linked) {
      if (row.provider !== input.provider && (await stillSignsIn(services, tx, row.provider))) others.push(row);
    }
    const [passkey] = await tx.select({ id: passkeys.id }).from(passkeys).where(eq(passkeys.userId, input.userId)).limit(1);
    if (!user.passwordHash && others.length === 0 && !passkey) throw new IamError('OAUTH_LAST_SIGN_IN_METHOD');
    await tx.delete(oauthAccounts).where(and(eq(oauthAccounts.provider, target.provider), eq(oauthAccounts.subject, target.subject)));
    await recordAudit(tx, {
      type: 'oauth.unlinked',
      at: services.clock.now(),
      userId: input.userId,
      client,
      data: { provider: target.provider },
    });
    return { status: 'unlinked' };
  });
}
