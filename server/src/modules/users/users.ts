import { eq, sql } from 'drizzle-orm';
import type { Executor } from '../../db/client';
import { type UserRow, users } from '../../db/tables';
import { recordAudit } from '../audit/audit';
import { newId } from '../crypto/ids';
import type { ClientInfo } from '../devices/clientInfo';
import { normalizeEmail } from './email';

/** New accounts get this role (docs/api.md, bff.authorize). */
export const defaultRoles = ['user'];

export async function findUserByEmail(executor: Executor, email: string): Promise<UserRow | null> {
  const [row] = await executor
    .select()
    .from(users)
    .where(eq(users.emailNormalized, normalizeEmail(email)))
    .limit(1);
  return row ?? null;
}

export async function findUserById(executor: Executor, id: string): Promise<UserRow | null> {
  const [row] = await executor.select().from(users).where(eq(users.id, id)).limit(1);
  return row ?? null;
}

/**
 * Takes the account's row for the rest of the transaction by writing it, so that flows of one
 * account that must take turns (creating an API key against the cap, linking or unlinking a
 * sign-in provider, requesting a password reset) do so on every instance and every node. A read
 * lock (`SELECT … FOR UPDATE`) orders them on one server only: on a multi-primary cluster
 * (Galera) a lock holds on its own node, and two transactions are ordered only when they write
 * the same row; the loser of the certification runs again whole and sees the winner. The write
 * moves `updated_at` to now, or a millisecond past its value when that is later, so it always
 * changes the row. The account's disabled state, or null when there is no such account.
 */
export async function claimAccount(executor: Executor, userId: string, now: Date): Promise<{ disabledAt: Date | null } | null> {
  await executor
    .update(users)
    .set({ updatedAt: sql`GREATEST(${now}, ${users.updatedAt} + INTERVAL 1000 MICROSECOND)` })
    .where(eq(users.id, userId));
  const [row] = await executor.select({ disabledAt: users.disabledAt }).from(users).where(eq(users.id, userId)).limit(1);
  return row ?? null;
}

export interface NewUser {
  email: string;
  name: string | null;
  /** An argon2id hash, or null for an account that signs in otherwise (a social provider). */
  passwordHash: string | null;
  /** Set when the address is proven at creation (a provider vouched for it). */
  emailVerifiedAt: Date | null;
}

/**
 * The one place a user is created: the row with its normalised address and the default roles,
 * and the `user.signed_up` audit row, both in the caller's transaction. The unique index on
 * the normalised address refuses a second account for one address (a duplicate-key error the
 * caller settles).
 */
export async function createUser(
  tx: Executor,
  input: NewUser,
  context: { now: Date; client: ClientInfo; auditData?: Record<string, unknown> },
): Promise<UserRow> {
  const { now } = context;
  // `changed_at` is the database's to stamp (its default here, then every change of the row).
  const user: Omit<UserRow, 'changedAt'> = {
    id: newId('user'),
    email: input.email.trim(),
    emailNormalized: normalizeEmail(input.email),
    emailVerifiedAt: input.emailVerifiedAt,
    name: input.name,
    passwordHash: input.passwordHash,
    roles: defaultRoles,
    totpEnabledAt: null,
    passkeyCount: 0,
    disabledAt: null,
    disabledReason: null,
    lastSignInAt: null,
    signInCount: 0,
    createdAt: now,
    updatedAt: now,
  };
  await tx.insert(users).values(user);
  await recordAudit(tx, { type: 'user.signed_up', at: now, userId: user.id, client: context.client, data: context.auditData });
  return { ...user, changedAt: now };
}
