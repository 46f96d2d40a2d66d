import { ssoDomainInput } from '@iam/shared';
import { addDomain } from '../../../modules/sso/domains';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf, withOrgChangeLimit } from '../../org/actor';
import { domainDeps } from '../actor';

/** Claims a domain: the TXT record that proves it (admins and the owner). */
export const add = authedProcedure
  .input(ssoDomainInput)
  .use(withOrgChangeLimit())
  .mutation(({ ctx, input }) => addDomain(domainDeps(ctx), actorOf(ctx), input));
