import { randomBytes } from 'node:crypto';
import { ssoConnectionUpdateFields } from '@iam/shared';
import { and, asc, eq } from 'drizzle-orm';
import type { Database, Executor, Transaction } from '../../db/client';
import { runTransaction } from '../../db/client';
import { type SsoConnectionRow, ssoConnections } from '../../db/tables';
import type { Clock } from '../clock';
import { base32 } from '../crypto/random';
import { IamError } from '../errors/iamError';
import { issuerAllowed, providerIdOf } from '../oauth/connections';
import type { OAuthService } from '../oauth/service';
import { audit, lockOrganization, requireManager } from '../orgs/orgs';
import { hasVerifiedDomain, type SsoActor } from './domains';
import { samlIdentityProviderOf } from './saml';
import { parseCertificates } from './samlCertificates';
import { checkSsoUrl, type SamlConnectionInput, type SamlConnectionView, samlColumnsOf, samlViewOf } from './samlConnections';

/**
 * An organization's SSO connections (docs/api.md, sso.connections): its own OpenID Provider
 * or SAML 2.0 identity provider (samlConnections.ts), configured through the API by its admins or owner behind a step-up
 * (`org_sso`: who the members sign in through is as sensitive as their sessions). The flow
 * itself is the social sign-in's (modules/oauth registry, OpenID Connect Core §3.1 code
 * flow with PKCE, nonce and RFC 9207 checks); only where the provider comes from differs.
 */

export interface ConnectionDeps {
  db: Database;
  clock: Clock;
  oauth: Pick<OAuthService, 'sso' | 'registry'>;
}

export type StepUpGuard = (tx: Transaction) => Promise<void>;

export type ConnectionView = OidcConnectionView | SamlConnectionView;

export interface OidcConnectionView {
  id: string;
  organizationId: string;
  type: 'oidc';
  issuer: string;
  clientId: string;
  /** The secret itself never leaves the service. */
  hasClientSecret: boolean;
  scopes: string[];
  /** The provider id its flow runs under (`oauth.*`'s `provider`, the callback path's last segment). */
  providerId: string;
  /** The redirect URI to register at the provider: the service's callback route for this connection. */
  redirectUri: string;
  createdAt: Date;
  updatedAt: Date;
}

/** OpenID Connect Core §3.1.2.1: `openid` must be asked for; `email` says who signed in. */
const defaultScopes = ['openid', 'email', 'profile'];
/** One connection per organization for now (a second IdP would need a choice at discovery). */
const maxConnectionsPerOrganization = 1;

function viewOf(deps: Pick<ConnectionDeps, 'oauth'>, row: SsoConnectionRow): ConnectionView {
  if (row.type === 'saml') return samlViewOf(row, deps.oauth.sso.publicUrl);
  return {
    id: row.id,
    organizationId: row.organizationId,
    type: 'oidc',
    issuer: row.issuer,
    clientId: row.clientId ?? '',
    hasClientSecret: row.clientSecretSealed !== null,
    scopes: (row.scopes ?? '').split(' ').filter(Boolean),
    providerId: providerIdOf(row.id),
    redirectUri: `${deps.oauth.sso.publicUrl.replace(/\/+$/, '')}/oauth/callback/${providerIdOf(row.id)}`,
    createdAt: row.createdAt,
    updatedAt: row.updatedAt,
  };
}

function checkIssuer(deps: ConnectionDeps, issuer: string): string {
  // RFC 9700 §2.6 / OIDC Discovery §4: TLS to the provider; plain HTTP only to loopback outside production.
  if (!issuerAllowed(issuer, deps.oauth.sso.allowLoopbackHttp)) {
    throw new IamError('INVALID_INPUT', { message: 'The issuer must be an https URL.' });
  }
  return issuer.replace(/\/+$/, '');
}

function scopesOf(scopes: readonly string[] | undefined): string {
  const list = [...new Set(scopes ?? defaultScopes)];
  if (!list.includes('openid')) list.unshift('openid');
  return list.join(' ');
}

/** `sso.connections.list`: the organization's connections, without their secrets (admins and the owner). */
export async function listConnections(deps: Pick<ConnectionDeps, 'db' | 'oauth'>, actor: SsoActor, organizationId: string) {
  await requireManager(deps.db, organizationId, actor.userId);
  const rows = await deps.db
    .select()
    .from(ssoConnections)
    .where(eq(ssoConnections.organizationId, organizationId))
    .orderBy(asc(ssoConnections.createdAt), asc(ssoConnections.id));
  return { connections: rows.map((row) => viewOf(deps, row)) };
}

type OidcCreateInput = {
  organizationId: string;
  type: 'oidc';
  issuer: string;
  clientId: string;
  clientSecret?: string | undefined;
  scopes?: string[] | undefined;
};
type SamlCreateInput = { organizationId: string; type: 'saml' } & SamlConnectionInput;

/** The row's columns of one type, the other type's null. */
function columnsOf(deps: ConnectionDeps, id: string, input: OidcCreateInput | SamlCreateInput) {
  const none = {
    clientId: null,
    clientSecretSealed: null,
    scopes: null,
    samlSsoUrl: null,
    samlCertificates: null,
    samlEmailAttribute: null,
  };
  if (input.type === 'saml') return { ...none, ...samlColumnsOf(input, deps.oauth.sso.allowLoopbackHttp) };
  return {
    ...none,
    issuer: checkIssuer(deps, input.issuer),
    clientId: input.clientId,
    clientSecretSealed: input.clientSecret === undefined ? null : deps.oauth.sso.secrets.seal(id, input.clientSecret),
    scopes: scopesOf(input.scopes),
  };
}

/** `sso.connections.create` (admins and the owner, behind the `org_sso` step-up). */
export async function createConnection(
  deps: ConnectionDeps,
  actor: SsoActor,
  input: OidcCreateInput | SamlCreateInput,
  stepUp: StepUpGuard,
): Promise<{ connection: ConnectionView }> {
  const now = deps.clock.now();
  const id = `ssc_${base32(randomBytes(16))}`;
  const columns = columnsOf(deps, id, input);
  return runTransaction(deps.db, async (tx) => {
    await lockOrganization(tx, input.organizationId, now);
    await requireManager(tx, input.organizationId, actor.userId);
    const existing = await tx
      .select({ id: ssoConnections.id })
      .from(ssoConnections)
      .where(eq(ssoConnections.organizationId, input.organizationId));
    if (existing.length >= maxConnectionsPerOrganization) {
      throw new IamError('INVALID_INPUT', { message: 'This organization already has a single sign-on connection; update or delete it.' });
    }
    await stepUp(tx);
    const row: SsoConnectionRow = {
      id,
      organizationId: input.organizationId,
      type: input.type,
      ...columns,
      createdAt: now,
      updatedAt: now,
    };
    await tx.insert(ssoConnections).values(row);
    await audit(tx, actor, input.organizationId, {
      type: 'org.updated',
      at: now,
      data:
        input.type === 'saml'
          ? { sso: 'connection_created', connectionId: id, type: 'saml', idpEntityId: row.issuer }
          : { sso: 'connection_created', connectionId: id, issuer: row.issuer, clientId: input.clientId },
    });
    return { connection: viewOf(deps, row) };
  });
}

async function requireConnection(tx: Transaction, organizationId: string, connectionId: string): Promise<SsoConnectionRow> {
  const [row] = await tx
    .select()
    .from(ssoConnections)
    .where(and(eq(ssoConnections.id, connectionId), eq(ssoConnections.organizationId, organizationId)))
    .limit(1);
  if (!row) throw new IamError('NOT_FOUND');
  return row;
}

type UpdateInput = {
  organizationId: string;
  connectionId: string;
  issuer?: string | undefined;
  clientId?: string | undefined;
  clientSecret?: string | null | undefined;
  scopes?: string[] | undefined;
  idpEntityId?: string | undefined;
  idpSsoUrl?: string | undefined;
  idpCertificates?: string[] | undefined;
  emailAttribute?: string | null | undefined;
};

/** The columns an update changes, for the connection's own type; a field of the other type is INVALID_INPUT. */
function changesOf(deps: ConnectionDeps, before: SsoConnectionRow, input: UpdateInput): Partial<SsoConnectionRow> {
  const other = before.type === 'saml' ? ssoConnectionUpdateFields.oidc : ssoConnectionUpdateFields.saml;
  const foreign = other.find((field) => input[field] !== undefined);
  if (foreign)
    throw new IamError('INVALID_INPUT', {
      message: `${foreign} does not apply to a ${before.type === 'saml' ? 'SAML' : 'OpenID Connect'} connection.`,
    });
  if (before.type === 'saml') {
    return {
      ...(input.idpEntityId === undefined ? {} : { issuer: input.idpEntityId }),
      ...(input.idpSsoUrl === undefined ? {} : { samlSsoUrl: checkSsoUrl(input.idpSsoUrl, deps.oauth.sso.allowLoopbackHttp) }),
      ...(input.idpCertificates === undefined ? {} : { samlCertificates: parseCertificates(input.idpCertificates) }),
      ...(input.emailAttribute === undefined ? {} : { samlEmailAttribute: input.emailAttribute }),
    };
  }
  return {
    ...(input.issuer === undefined ? {} : { issuer: checkIssuer(deps, input.issuer) }),
    ...(input.clientId === undefined ? {} : { clientId: input.clientId }),
    ...(input.clientSecret === undefined
      ? {}
      : { clientSecretSealed: input.clientSecret === null ? null : deps.oauth.sso.secrets.seal(before.id, input.clientSecret) }),
    ...(input.scopes === undefined ? {} : { scopes: scopesOf(input.scopes) }),
  };
}

/** `sso.connections.update`: new values for the connection's own type; `updated_at` moves, so every instance rebuilds it. */
export async function updateConnection(
  deps: ConnectionDeps,
  actor: SsoActor,
  input: UpdateInput,
  stepUp: StepUpGuard,
): Promise<{ connection: ConnectionView }> {
  const now = deps.clock.now();
  const result = await runTransaction(deps.db, async (tx) => {
    await lockOrganization(tx, input.organizationId, now);
    await requireManager(tx, input.organizationId, actor.userId);
    const before = await requireConnection(tx, input.organizationId, input.connectionId);
    const changes = {
      ...changesOf(deps, before, input),
      // Strictly later than before, so another instance's cached version is always stale.
      updatedAt: new Date(Math.max(now.getTime(), before.updatedAt.getTime() + 1)),
    };
    await stepUp(tx);
    await tx.update(ssoConnections).set(changes).where(eq(ssoConnections.id, before.id));
    const fields = before.type === 'saml' ? ssoConnectionUpdateFields.saml : ssoConnectionUpdateFields.oidc;
    await audit(tx, actor, input.organizationId, {
      type: 'org.updated',
      at: now,
      data: { sso: 'connection_updated', connectionId: before.id, changed: fields.filter((field) => input[field] !== undefined) },
    });
    return { connection: viewOf(deps, { ...before, ...changes }) };
  });
  deps.oauth.registry.invalidate(providerIdOf(input.connectionId));
  return result;
}

/** `sso.connections.delete`: its flows stop (on this instance now, on the others within the registry's TTL); identities linked through it stay as rows no provider resolves. */
export async function deleteConnection(
  deps: ConnectionDeps,
  actor: SsoActor,
  input: { organizationId: string; connectionId: string },
  stepUp: StepUpGuard,
): Promise<{ status: 'deleted' }> {
  const now = deps.clock.now();
  await runTransaction(deps.db, async (tx) => {
    const organization = await lockOrganization(tx, input.organizationId, now);
    await requireManager(tx, input.organizationId, actor.userId);
    const row = await requireConnection(tx, input.organizationId, input.connectionId);
    // While SSO is required, its connection is the members' only way in (OWASP ASVS 4.0 V2.x:
    // no change leaves accounts without a means to authenticate): the requirement goes first.
    if (organization.requireSso) throw new IamError('SSO_CONNECTION_IN_USE');
    await stepUp(tx);
    await tx.delete(ssoConnections).where(eq(ssoConnections.id, row.id));
    await audit(tx, actor, input.organizationId, {
      type: 'org.updated',
      at: now,
      data: { sso: 'connection_deleted', connectionId: row.id },
    });
  });
  deps.oauth.registry.invalidate(providerIdOf(input.connectionId));
  return { status: 'deleted' };
}

/** The organization's connection (the first), or null. */
export async function connectionOf(executor: Executor, organizationId: string): Promise<SsoConnectionRow | null> {
  const [row] = await executor
    .select()
    .from(ssoConnections)
    .where(eq(ssoConnections.organizationId, organizationId))
    .orderBy(asc(ssoConnections.createdAt), asc(ssoConnections.id))
    .limit(1);
  return row ?? null;
}

/**
 * Whether the organization can require SSO: an OpenID Connect connection whose provider the
 * registry builds (its secret opens, its issuer is allowed), or a SAML one with a certificate and
 * an allowed SSO URL, and a verified domain, so the policy never locks
 * the members out with no way in.
 */
export async function ssoReady(
  oauth: Pick<OAuthService, 'registry' | 'sso'>,
  executor: Executor,
  organizationId: string,
): Promise<boolean> {
  const connection = await connectionOf(executor, organizationId);
  if (!connection) return false;
  if (!(await hasVerifiedDomain(executor, organizationId))) return false;
  if (connection.type === 'saml') {
    const idp = samlIdentityProviderOf(connection);
    return idp !== null && issuerAllowed(idp.ssoUrl, oauth.sso.allowLoopbackHttp);
  }
  return (await oauth.registry.resolve(providerIdOf(connection.id))) !== null;
}
