import { publicProcedure } from '../../trpc/procedures';

/**
 * A constant answer through the whole public ladder (error mapping, IP-block check) and no
 * work of its own: the baseline `pnpm bench` compares authenticated calls and bare HTTP
 * servers with. Public and cheap, so it reveals nothing and costs nothing.
 */
export const ping = publicProcedure.query(() => ({ status: 'ok' as const }));
