import { eq } from 'drizzle-orm';
import { type Database, runTransaction } from '../../db/client';
import { users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import type { Clock } from '../clock';
import { findUserByEmail } from './users';

/** Role names: lowercase words, so they read the same in tokens, configs and logs. */
export const rolePattern = /^[a-z][a-z0-9_:-]{0,63}$/;

/**
 * Adds or removes a role. It reaches the user's access tokens at their next refresh (at
 * most one access-token lifetime later); revoke the sessions for an immediate effect.
 * Returns the roles after the change, or null when no account has that address.
 */
export async function changeRole(
  deps: { db: Database; clock: Clock },
  input: { email: string; role: string; grant: boolean },
): Promise<string[] | null> {
  if (!rolePattern.test(input.role)) throw new Error(`A role is lowercase letters, digits, '_', ':' or '-': ${input.role}`);
  return runTransaction(deps.db, async (tx) => {
    const user = await findUserByEmail(tx, input.email);
    if (!user) return null;
    const roles = input.grant ? [...new Set([...user.roles, input.role])] : user.roles.filter((role) => role !== input.role);
    await tx.update(users).set({ roles, updatedAt: deps.clock.now() }).where(eq(users.id, user.id));
    // An operator's command: no actor id, and `by` says where it came from.
    await recordAudit(tx, {
      type: 'user.roles_changed',
      at: deps.clock.now(),
      userId: user.id,
      data: { from: user.roles, to: roles, by: 'cli' },
    });
    return roles;
  });
}
