import type { TokenDeps } from '../../modules/scim/tokens';
import type { ConnectionDeps } from '../../modules/sso/connections';
import type { DomainDeps } from '../../modules/sso/domains';
import type { AuthedContext } from '../../trpc/procedures';

/** What the sso functions take of the service: a narrow slice of `Services`. */
export function connectionDeps(ctx: AuthedContext): ConnectionDeps {
  return { db: ctx.services.db, clock: ctx.services.clock, oauth: ctx.services.oauth };
}

export function domainDeps(ctx: AuthedContext): DomainDeps {
  return { db: ctx.services.db, clock: ctx.services.clock, dnsServers: ctx.services.oauth.sso.dnsServers };
}

/** SCIM tokens and group roles take the database and the clock. */
export function scimDeps(ctx: AuthedContext): TokenDeps {
  return { db: ctx.services.db, clock: ctx.services.clock };
}
