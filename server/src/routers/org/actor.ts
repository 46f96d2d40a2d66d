import type { OrgActor } from '../../modules/orgs/orgs';
import type { AuthedContext } from '../../trpc/procedures';
import { withLimits } from '../../trpc/rateLimit';

/** The signed-in caller, as the organization functions take it. */
export function actorOf(ctx: AuthedContext): OrgActor {
  return { userId: ctx.auth.userId, sessionId: ctx.auth.sessionId, client: ctx.client };
}

/** Every change of an organization counts against `orgChangesPerUser` (OWASP ASVS 4.0 V2.2.1, anti-automation). */
export const withOrgChangeLimit = () => withLimits<AuthedContext>((ctx) => [['orgChangesPerUser', ctx.auth.userId]]);
