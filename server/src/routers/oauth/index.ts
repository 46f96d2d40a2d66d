import type { TRPCRouterRecord } from '@trpc/server';
import { accounts } from './accounts';
import { authorize } from './authorize';
import { callback } from './callback';
import { link } from './link';
import { providers } from './providers';
import { unlink } from './unlink';

export const oauthRouter = {
  providers,
  authorize,
  callback,
  accounts,
  link,
  unlink,
} satisfies TRPCRouterRecord;
