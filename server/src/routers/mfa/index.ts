import type { TRPCRouterRecord } from '@trpc/server';
import { consumeLink } from './consumeLink';
import { resend } from './resend';
import { verify } from './verify';

export const mfaRouter = { verify, resend, consumeLink } satisfies TRPCRouterRecord;
