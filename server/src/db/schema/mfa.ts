import { index, int, mysqlTable, primaryKey, smallint, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, hashColumn, idColumn, instantColumn } from './columns';

/**
 * A user's TOTP authenticator (RFC 6238): at most one, pending until a first code confirms
 * it. The secret is sealed (AES-256-GCM under a key derived from `IAM_SECRET`, bound to the
 * user), never stored in the clear. The last accepted time step and the run of failed second
 * factors live here, so every instance refuses a replayed code and throttles guessing.
 */
export const totpCredentials = mysqlTable('totp_credentials', {
  // mfa.totp.*, and the second-factor check of a challenge: by user, locked FOR UPDATE.
  userId: idColumn('user_id').primaryKey(),
  secretSealed: varchar('secret_sealed', { length: 255 }).notNull(),
  createdAt: createdAt(),
  /** Null while the enrolment is pending. */
  confirmedAt: instantColumn('confirmed_at'),
  /** RFC 6238 §5.2: a code of this step or an earlier one is never accepted again. */
  lastUsedStep: int('last_used_step'),
  /** Consecutive wrong second factors (TOTP or backup code) since the last right one. */
  failedAttempts: smallint('failed_attempts').notNull(),
  lastFailedAt: instantColumn('last_failed_at'),
});

/** Single-use backup codes (NIST SP 800-63B §5.1.2 look-up secrets): only keyed hashes. */
export const backupCodes = mysqlTable(
  'backup_codes',
  {
    userId: idColumn('user_id').notNull(),
    codeHash: hashColumn('code_hash').notNull(),
    createdAt: createdAt(),
    usedAt: instantColumn('used_at'),
  },
  (table) => [
    // Using a code: UPDATE … WHERE user_id = ? AND code_hash = ? AND used_at IS NULL.
    // Replacing or dropping a user's codes: DELETE … WHERE user_id = ? (the key's prefix).
    primaryKey({ name: 'backup_codes_pk', columns: [table.userId, table.codeHash] }),
  ],
);

/**
 * Proofs of a fresh second factor (mfa.stepUp.verify) that sensitive actions spend: bound
 * to one session and one action, short-lived, single use. Only the SHA-256 of the token
 * (256 random bits) is kept.
 */
export const stepUpTokens = mysqlTable(
  'step_up_tokens',
  {
    // Spending a token: UPDATE … WHERE token_hash = ? AND used_at IS NULL AND ….
    tokenHash: hashColumn('token_hash').primaryKey(),
    userId: idColumn('user_id').notNull(),
    sessionId: idColumn('session_id').notNull(),
    action: varchar('action', { length: 64 }).notNull(),
    createdAt: createdAt(),
    expiresAt: instantColumn('expires_at').notNull(),
    usedAt: instantColumn('used_at'),
  },
  (table) => [
    // Issuing a token first deletes the user's expired ones: DELETE … WHERE user_id = ? AND expires_at < ?.
    index('step_up_tokens_user_expires_idx').on(table.userId, table.expiresAt),
    // Retention: expired step-up tokens.
    index('step_up_tokens_expires_at_idx').on(table.expiresAt),
  ],
);

export type TotpCredentialRow = typeof totpCredentials.$inferSelect;
export type BackupCodeRow = typeof backupCodes.$inferSelect;
export type StepUpTokenRow = typeof stepUpTokens.$inferSelect;
