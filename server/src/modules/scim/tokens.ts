import { and, asc, eq, isNull, lte, or } from 'drizzle-orm';
import { type Database, runTransaction } from '../../db/client';
import { organizations, type ScimTokenRow, scimTokens } from '../../db/tables';
import { addSeconds, type Clock } from '../clock';
import { sha256Hex } from '../crypto/hash';
import { newId } from '../crypto/ids';
import { randomToken } from '../crypto/random';
import { IamError } from '../errors/iamError';
import { audit, lockOrganization, type OrgActor, requireManager, type StepUpGuard } from '../orgs/orgs';

/**
 * The bearer tokens an organization's identity provider calls `/scim/v2` with (docs/api.md,
 * sso.scim), created and revoked by its admins and owner behind the `org_sso` step-up: a
 * token can create, change and deprovision every member, so it is as sensitive as the SSO
 * connection.
 *
 * - **Entropy**: 256 bits from the CSPRNG (NIST SP 800-63B §5.1.2.1; OWASP ASVS 4.0 V2.10.1:
 *   a service's secret of its own, never a shared password), prefixed `scim_` so a leaked one
 *   is recognised (secret scanners).
 * - **At rest**: only its SHA-256, under a unique index (NIST SP 800-63B §5.1.2.2: ≥ 112 bits
 *   need no slow KDF); shown once, by `createToken`; `prefix` keeps 48 bits for display.
 * - **Comparison**: by looking the hash up (the database compares hashes, never the token), so
 *   timing tells nothing about a token (ASVS V2.10, V3.5).
 * - **State**: every request reads the token's row (no cache), so a revoked token stops at once,
 *   on every instance (ASVS V3.5.x).
 * - **Rotation**: up to `maxLiveTokensPerOrganization` live at once, so a new one can be set at
 *   the provider before the old one is revoked.
 */
export const scimTokenPrefix = 'scim_';
const scimTokenPattern = /^scim_[A-Za-z0-9_-]{43}$/;
export const maxLiveTokensPerOrganization = 3;
/** `last_used_at` is written at most this often per token. */
const lastUsedResolutionInSeconds = 60;

export interface TokenDeps {
  db: Database;
  clock: Clock;
}

export interface ScimTokenInfo {
  id: string;
  name: string;
  prefix: string;
  createdBy: string;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
}

const infoOf = (row: ScimTokenRow): ScimTokenInfo => ({
  id: row.id,
  name: row.name,
  prefix: row.prefix,
  createdBy: row.createdBy,
  createdAt: row.createdAt,
  lastUsedAt: row.lastUsedAt,
  revokedAt: row.revokedAt,
});

/** `sso.scim.createToken`: a new token, returned once. */
export async function createScimToken(
  deps: TokenDeps,
  actor: OrgActor,
  input: { organizationId: string; name?: string | undefined },
  stepUp: StepUpGuard,
): Promise<{ token: string; tokenInfo: ScimTokenInfo }> {
  const now = deps.clock.now();
  const token = `${scimTokenPrefix}${randomToken(32)}`;
  return runTransaction(deps.db, async (tx) => {
    await lockOrganization(tx, input.organizationId, now);
    await requireManager(tx, input.organizationId, actor.userId);
    const live = await tx
      .select({ id: scimTokens.id })
      .from(scimTokens)
      .where(and(eq(scimTokens.organizationId, input.organizationId), isNull(scimTokens.revokedAt)));
    if (live.length >= maxLiveTokensPerOrganization) throw new IamError('SCIM_TOKEN_LIMIT');
    await stepUp(tx);
    const row: ScimTokenRow = {
      id: newId('scimToken'),
      organizationId: input.organizationId,
      name: input.name ?? 'SCIM',
      prefix: token.slice(0, 13),
      tokenHash: sha256Hex(token),
      createdBy: actor.userId,
      createdAt: now,
      lastUsedAt: null,
      revokedAt: null,
    };
    await tx.insert(scimTokens).values(row);
    await audit(tx, actor, input.organizationId, {
      type: 'org.scim_token_created',
      at: now,
      data: { tokenId: row.id, name: row.name, prefix: row.prefix },
    });
    return { token, tokenInfo: infoOf(row) };
  });
}

/** `sso.scim.listTokens`: the organization's tokens, live and revoked, never the tokens themselves. */
export async function listScimTokens(deps: Pick<TokenDeps, 'db'>, actor: OrgActor, organizationId: string) {
  await requireManager(deps.db, organizationId, actor.userId);
  const rows = await deps.db
    .select()
    .from(scimTokens)
    .where(eq(scimTokens.organizationId, organizationId))
    .orderBy(asc(scimTokens.createdAt), asc(scimTokens.id));
  return { tokens: rows.map(infoOf) };
}

/** `sso.scim.revokeToken`: the token stops at once, on every instance (each request reads its row). */
export async function revokeScimToken(
  deps: TokenDeps,
  actor: OrgActor,
  input: { organizationId: string; tokenId: string },
  stepUp: StepUpGuard,
): Promise<{ status: 'revoked' }> {
  const now = deps.clock.now();
  await runTransaction(deps.db, async (tx) => {
    await lockOrganization(tx, input.organizationId, now);
    await requireManager(tx, input.organizationId, actor.userId);
    const [row] = await tx
      .select()
      .from(scimTokens)
      .where(and(eq(scimTokens.id, input.tokenId), eq(scimTokens.organizationId, input.organizationId)))
      .limit(1);
    if (!row) throw new IamError('NOT_FOUND');
    if (row.revokedAt) return;
    await stepUp(tx);
    await tx.update(scimTokens).set({ revokedAt: now }).where(eq(scimTokens.id, row.id));
    await audit(tx, actor, input.organizationId, {
      type: 'org.scim_token_revoked',
      at: now,
      data: { tokenId: row.id, prefix: row.prefix },
    });
  });
  return { status: 'revoked' };
}

/** Who a SCIM request acts as: the token and its organization. */
export interface ScimCaller {
  tokenId: string;
  organizationId: string;
}

/**
 * The organization a bearer token speaks for, or null when it is malformed, unknown, revoked or
 * its organization is gone (all answered alike, 401).
 */
export async function authenticateScimToken(deps: TokenDeps, token: string): Promise<ScimCaller | null> {
  if (!scimTokenPattern.test(token)) return null;
  const [row] = await deps.db
    .select({ token: scimTokens, organizationId: organizations.id })
    .from(scimTokens)
    .innerJoin(organizations, eq(organizations.id, scimTokens.organizationId))
    .where(eq(scimTokens.tokenHash, sha256Hex(token)))
    .limit(1);
  if (!row || row.token.revokedAt) return null;
  const now = deps.clock.now();
  const due = addSeconds(now, -lastUsedResolutionInSeconds);
  if (!row.token.lastUsedAt || row.token.lastUsedAt <= due) {
    await deps.db
      .update(scimTokens)
      .set({ lastUsedAt: now })
      .where(and(eq(scimTokens.id, row.token.id), or(isNull(scimTokens.lastUsedAt), lte(scimTokens.lastUsedAt, due))));
  }
  return { tokenId: row.token.id, organizationId: row.organizationId };
}
