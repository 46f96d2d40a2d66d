import { sql } from 'drizzle-orm';
import { index, int, mysqlTable, timestamp, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, idColumn, instantColumn, jsonColumn } from './columns';

export const users = mysqlTable(
  'users',
  {
    id: idColumn('id').primaryKey(),
    /** As the user typed it (trimmed), for display and for sending. */
    email: varchar('email', { length: 254 }).notNull(),
    /** The uniqueness key: see `normalizeEmail`. */
    emailNormalized: varchar('email_normalized', { length: 254 }).notNull(),
    emailVerifiedAt: instantColumn('email_verified_at'),
    name: varchar('name', { length: 100 }),
    /** argon2id PHC string; null for accounts that only sign in through a provider. */
    passwordHash: varchar('password_hash', { length: 255 }),
    roles: jsonColumn<string[]>('roles').notNull(),
    /** When a TOTP authenticator was confirmed (`PublicUser.mfa.totp`); null when none is enrolled. */
    totpEnabledAt: instantColumn('totp_enabled_at'),
    /** Passkeys registered (`PublicUser.mfa.passkeys`), kept with every add and remove. */
    passkeyCount: int('passkey_count').notNull().default(0),
    /** Set by an admin: the user cannot sign in, and every token and API key of theirs is refused. */
    disabledAt: instantColumn('disabled_at'),
    disabledReason: varchar('disabled_reason', { length: 200 }),
    /** When a session was last opened for the account (any way in), by the service's clock. */
    lastSignInAt: instantColumn('last_sign_in_at'),
    /**
     * Sessions opened so far. Every sign-in writes the row through it (the count always changes,
     * where a timestamp may not within one millisecond), so an admin's disable, which writes the
     * row too, is ordered with the sign-in on a multi-primary cluster as on one server.
     */
    signInCount: int('sign_in_count').notNull().default(0),
    createdAt: createdAt(),
    /** When a flow last meant to change the account, by the service's clock (what the data export shows). */
    updatedAt: instantColumn('updated_at').notNull(),
    /**
     * When the row last changed, in any column, by the database's own clock: the server stamps
     * it on every UPDATE that changes something (`ON UPDATE CURRENT_TIMESTAMP(3)`), so no write
     * can forget it, and the service never sets it. The user cache's invalidation feed polls it
     * (`modules/users/userCache.ts`). TIMESTAMP, not DATETIME, because only TIMESTAMP takes
     * drizzle's `onUpdateNow`; the service only ever compares it with the database's own `NOW(3)`.
     */
    changedAt: timestamp('changed_at', { fsp: 3, mode: 'date' }).notNull().default(sql`CURRENT_TIMESTAMP(3)`).onUpdateNow(),
  },
  (table) => [
    // auth.login, auth.signup, auth.requestPasswordReset: find the account by its address.
    uniqueIndex('users_email_normalized_uq').on(table.emailNormalized),
    // The user cache's poll: the rows changed since its last look, on every instance each second.
    index('users_changed_at_idx').on(table.changedAt),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
