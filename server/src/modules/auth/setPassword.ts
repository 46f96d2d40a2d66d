import { and, eq, isNull } from 'drizzle-orm';
import { runTransaction } from '../../db/client';
import { users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { hashPassword } from '../users/password';
import { findUserById } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import { queuePasswordChangedNotice } from './passwordChanged';
import type { Services } from './services';
import { requireStepUp } from './stepUp';

/**
 * Adds a password to an account that has none (made through a provider or passwordless), on a
 * fresh step-up for `password_set` in this session (OWASP ASVS 4.0 V2.1.5/V3.7.1: a sensitive
 * change re-proves the user). The token is spent in the transaction that sets the password, and
 * only an account still without one is changed, so two calls cannot both set it. An account
 * that has a password changes it with `auth.changePassword`.
 */
export async function setPassword(
  services: Services,
  input: { userId: string; sessionId: string; newPassword: string; stepUpToken?: string | undefined },
  client: ClientInfo,
): Promise<{ status: 'password_set' }> {
  const user = await findUserById(services.db, input.userId);
  if (!user) throw new IamError('UNAUTHENTICATED');
  if (user.passwordHash !== null) {
    throw new IamError('INVALID_INPUT', { message: 'This account has a password; change it with auth.changePassword.' });
  }
  if (!input.stepUpToken) throw new IamError('STEP_UP_REQUIRED');
  await services.passwordPolicy.check(input.newPassword, { email: user.email, name: user.name ?? undefined });
  const passwordHash = await hashPassword(input.newPassword);
  const now = services.clock.now();
  const stepUpToken = input.stepUpToken;
  await runTransaction(services.db, async (tx) => {
    await requireStepUp(services, { sessionId: input.sessionId, action: 'password_set', stepUpToken }, tx);
    const [result] = await tx
      .update(users)
      .set({ passwordHash, updatedAt: now })
      .where(and(eq(users.id, user.id), isNull(users.passwordHash)));
    if (result.affectedRows === 0) {
      throw new IamError('INVALID_INPUT', { message: 'This account has a password; change it with auth.changePassword.' });
    }
    await recordAudit(tx, { type: 'password.changed', at: now, userId: user.id, sessionId: input.sessionId, client, data: { set: true } });
    await queuePasswordChangedNotice(services, tx, user, client);
    await emitSecurityEvent(services, tx, { type: 'password.changed', userId: user.id, data: { method: 'set' } }, now);
  });
  services.users.invalidate(user.id);
  return { status: 'password_set' };
}
