import type { TRPCRouterRecord } from '@trpc/server';
import { authorize } from './authorize';
import { connectionsRouter } from './connections';
import { discover } from './discover';
import { domainsRouter } from './domains';
import { scimRouter } from './scim';

/** Enterprise SSO of organizations: OpenID Connect connections, verified domains, discovery and sign-in, SCIM provisioning; docs/api.md, sso. */
export const ssoRouter = {
  connections: connectionsRouter,
  domains: domainsRouter,
  scim: scimRouter,
  discover,
  authorize,
} satisfies TRPCRouterRecord;
