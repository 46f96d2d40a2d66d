import { orgIdInput } from '@iam/shared';
import { listDomains } from '../../../modules/sso/domains';
import { authedProcedure } from '../../../trpc/procedures';
import { actorOf } from '../../org/actor';
import { domainDeps } from '../actor';

/** The organization's domains and their verification records (admins and the owner). */
export const list = authedProcedure
  .input(orgIdInput)
  .query(({ ctx, input }) => listDomains(domainDeps(ctx), actorOf(ctx), input.organizationId));
