import type { Database, Transaction } from '../../db/client';
import { type AuditEventType, recordAudit } from '../audit/audit';
import type { Clock } from '../clock';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { lockOrganization } from '../orgs/orgs';
import type { SessionService } from '../sessions/sessions';
import type { RevocationSet } from '../tokens/revocations';
import type { UserCache } from '../users/userCache';
import type { SecurityEventDeps } from '../webhooks/webhooks';
import { ScimError } from './scimError';
import type { ScimCaller } from './tokens';

/** What the SCIM resources need of the service: a narrow slice of its dependencies. */
export interface ScimDeps extends SecurityEventDeps {
  db: Database;
  clock: Clock;
  sessions: Pick<SessionService, 'revokeAllOfUserIn'>;
  revocations: Pick<RevocationSet, 'add'>;
  users: Pick<UserCache, 'invalidate'>;
}

/** One SCIM request: the token's organization, the client, and the base URL resources are located under. */
export interface ScimRequest {
  caller: ScimCaller;
  client: ClientInfo;
  /** `${PUBLIC_URL}/scim/v2`, never the request's Host. */
  baseUrl: string;
}

/**
 * A SCIM change's audit row in the organization's trail (`org.audit`): nobody signed in did it,
 * so it names no user; the token (`data.tokenId`) and the member concerned (`data.memberId`) say
 * who and what.
 */
export function scimAudit(
  tx: Transaction,
  request: ScimRequest,
  event: { type: AuditEventType; at: Date; memberId?: string; data?: Record<string, unknown> },
): Promise<void> {
  return recordAudit(tx, {
    type: event.type,
    at: event.at,
    client: request.client,
    organizationId: request.caller.organizationId,
    data: { via: 'scim', tokenId: request.caller.tokenId, ...(event.memberId ? { memberId: event.memberId } : {}), ...event.data },
  });
}

/** Writes the token's organization's row, first thing in every SCIM change (modules/orgs `lockOrganization`); gone is 401. */
export async function lockScimOrganization(tx: Transaction, request: ScimRequest, now: Date): Promise<void> {
  try {
    await lockOrganization(tx, request.caller.organizationId, now);
  } catch (error) {
    if (error instanceof IamError && error.code === 'NOT_FOUND') throw new ScimError(401, 'The token is not valid.');
    throw error;
  }
}
