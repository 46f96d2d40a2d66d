import type { BotCheckedProcedure } from '../modules/botCheck/botCheck';
import { isUnderAttack } from '../modules/botCheck/pressure';
import { IamError } from '../modules/errors/iamError';
import { normalizeEmail } from '../modules/users/email';
import type { Context } from './context';

/**
 * The bot-check step of a procedure (`.use(withBotCheck('signup'))`, before its limits): when
 * the procedure's mode asks for it (`always`, or `under_attack` while the caller's IP or the
 * address is under attack), the call needs a solved proof of work in `botCheck`; without one,
 * or with one that is forged, expired or already used, it is refused with
 * `BOT_CHECK_REQUIRED` and a fresh challenge in `error.data.botCheck`. A refused call counts
 * against no limit.
 */
export function withBotCheck<TContext extends Context, TInput extends { email: string; botCheck?: string | undefined }>(
  procedure: BotCheckedProcedure,
) {
  return async <TResult>({ ctx, input, next }: { ctx: TContext; input: TInput; next: () => Promise<TResult> }): Promise<TResult> => {
    const { botCheck, limits, metrics } = ctx.services;
    const mode = botCheck.config.modes[procedure];
    if (mode === 'off') return next();
    const required =
      mode === 'always' || (await isUnderAttack(limits, procedure, { ip: ctx.client.ip, address: normalizeEmail(input.email) }));
    if (!required || (input.botCheck !== undefined && (await botCheck.redeem(input.botCheck)))) return next();
    metrics.refusals.inc({ code: 'BOT_CHECK_REQUIRED' });
    throw new IamError('BOT_CHECK_REQUIRED', { botCheck: await botCheck.issue() });
  };
}
