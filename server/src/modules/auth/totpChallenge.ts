import { runTransaction } from '../../db/client';
import type { UserRow } from '../../db/tables';
import { secondFactorMethods } from '../mfa/mfa';
import { type LoginChallenge, withPasskey } from './loginChallenge';
import type { Services } from './services';

/**
 * The sign-in challenge of an account with TOTP enrolled (docs/api.md `Challenge`, methods
 * `totp` and `backup_code`, and `passkey` when it has one): nothing is mailed, there is no link, and the emailed-code path
 * of `mfa.verify` stays closed for it (its `data.methods` leave out `email_otp`).
 */
export async function startTotpChallenge(
  services: Services,
  user: UserRow,
  reasons: string[],
  offerPasskey = true,
): Promise<LoginChallenge> {
  const methods = withPasskey([...secondFactorMethods], user, offerPasskey);
  const challenge = await runTransaction(services.db, (tx) =>
    services.challenges.issue(tx, { userId: user.id, purpose: 'login', data: { methods, reasons }, withLink: false }),
  );
  return { status: 'mfa_required', challengeId: challenge.challengeId, methods, reasons };
}
