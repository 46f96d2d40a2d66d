import { eq } from 'drizzle-orm';
import { runTransaction } from '../../db/client';
import { users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { ClientInfo } from '../devices/clientInfo';
import { IamError } from '../errors/iamError';
import { hashPassword, verifyPassword } from '../users/password';
import { findUserById } from '../users/users';
import { emitSecurityEvent } from '../webhooks/webhooks';
import { queuePasswordChangedNotice } from './passwordChanged';
import { retireResetLinks } from './passwordReset';
import type { Services } from './services';

/** Changes the password of a signed-in user who knows the current one; ends the other sessions. */
export async function changePassword(
  services: Services,
  input: { userId: string; sessionId: string; currentPassword: string; newPassword: string },
  client: ClientInfo,
): Promise<{ status: 'password_changed' }> {
  const { db, clock } = services;
  const user = await findUserById(db, input.userId);
  if (!user?.passwordHash || !(await verifyPassword(user.passwordHash, input.currentPassword))) {
    throw new IamError('INVALID_CREDENTIALS');
  }
  await services.passwordPolicy.check(input.newPassword, { email: user.email, name: user.name ?? undefined });
  const passwordHash = await hashPassword(input.newPassword);
  const now = clock.now();
  await runTransaction(db, async (tx) => {
    await tx.update(users).set({ passwordHash, updatedAt: now }).where(eq(users.id, user.id));
    await retireResetLinks(tx, user.id, now);
    await recordAudit(tx, { type: 'password.changed', at: now, userId: user.id, sessionId: input.sessionId, client });
    await queuePasswordChangedNotice(services, tx, user, client);
    await emitSecurityEvent(services, tx, { type: 'password.changed', userId: user.id, data: { method: 'change' } }, now);
  });
  services.users.invalidate(user.id);
  await services.sessions.revokeAllOfUser(user.id, 'password_change', client, { except: input.sessionId });
  return { status: 'password_changed' };
}
