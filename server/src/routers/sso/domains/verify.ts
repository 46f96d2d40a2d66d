import { ssoDomainInput } from '@iam/shared';
import { verifyDomain } from '../../../modules/sso/domains';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../../org/actor';
import { domainDeps } from '../actor';

/** Looks the TXT record up and marks the domain verified (admins and the owner). */
export const verify = authedProcedure
  .input(ssoDomainInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => verifyDomain(domainDeps(ctx), actorOf(ctx), input));
