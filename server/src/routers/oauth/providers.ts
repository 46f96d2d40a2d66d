import { publicProcedure } from '../../trpc/procedures';

/** The configured sign-in providers, for the buttons of a sign-in page. */
export const providers = publicProcedure.query(({ ctx }) => ctx.services.oauth.registry.list());
