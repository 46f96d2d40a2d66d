import type { TRPCRouterRecord } from '@trpc/server';
import { consumeLink } from './consumeLink';
import { resend } from './resend';
import { stepUpRouter } from './stepUp';
import { totpRouter } from './totp';
import { verify } from './verify';

export const mfaRouter = { verify, resend, consumeLink, totp: totpRouter, stepUp: stepUpRouter } satisfies TRPCRouterRecord;
