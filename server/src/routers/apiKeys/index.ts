import type { TRPCRouterRecord } from '@trpc/server';
import { create } from './create';
import { list } from './list';
import { revoke } from './revoke';

/** A user's API keys for their own scripts; products verify them with `bff.verifyApiKey`. */
export const apiKeysRouter = { create, list, revoke } satisfies TRPCRouterRecord;
