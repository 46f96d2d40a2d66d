import { int, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
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
    createdAt: createdAt(),
    updatedAt: instantColumn('updated_at').notNull(),
  },
  (table) => [
    // auth.login, auth.signup, auth.requestPasswordReset: find the account by its address.
    uniqueIndex('users_email_normalized_uq').on(table.emailNormalized),
  ],
);

export type UserRow = typeof users.$inferSelect;
export type NewUserRow = typeof users.$inferInsert;
