import { ssoDomainInput } from '@iam/shared';
import { removeDomain } from '../../../modules/sso/domains';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../../org/actor';
import { domainDeps } from '../actor';

/** Forgets a domain, verified or not (admins and the owner). */
export const remove = authedProcedure
  .input(ssoDomainInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => removeDomain(domainDeps(ctx), actorOf(ctx), input));
