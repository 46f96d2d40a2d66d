import { bigint, boolean, index, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, hashColumn, idColumn, instantColumn, jsonColumn } from './columns';

/** A WebAuthn credential (passkey) of a user: its id and public key, never a secret. */
export const passkeys = mysqlTable(
  'passkeys',
  {
    id: idColumn('id').primaryKey(),
    userId: idColumn('user_id').notNull(),
    /** The credential id, base64url, as the authenticator gave it. */
    credentialId: varchar('credential_id', { length: 512 }).notNull(),
    /** The COSE public key, base64url. */
    publicKey: varchar('public_key', { length: 2048 }).notNull(),
    /** The signature counter last seen; one that goes backwards is a possible clone. */
    counter: bigint('counter', { mode: 'number' }).notNull(),
    transports: jsonColumn<string[]>('transports'),
    deviceType: varchar('device_type', { length: 16 }).notNull(),
    backedUp: boolean('backed_up').notNull(),
    name: varchar('name', { length: 100 }).notNull(),
    createdAt: createdAt(),
    lastUsedAt: instantColumn('last_used_at'),
  },
  (table) => [
    // Sign-in: the credential the authenticator names.
    uniqueIndex('passkeys_credential_uq').on(table.credentialId),
    index('passkeys_user_idx').on(table.userId),
  ],
);

/**
 * A WebAuthn ceremony under way (registration, sign-in, or the answer to a challenge): its
 * challenge, the user it is for (none for a discoverable sign-in) and the browser that asked
 * (its canary's hash). Single use, 5 minutes.
 */
export const webauthnCeremonies = mysqlTable(
  'webauthn_ceremonies',
  {
    id: idColumn('id').primaryKey(),
    kind: varchar('kind', { length: 16 }).notNull(),
    userId: idColumn('user_id'),
    /** The sign-in or step-up challenge this ceremony answers (a passkey as second factor); none for a sign-in. */
    challengeId: idColumn('challenge_id'),
    challenge: varchar('challenge', { length: 128 }).notNull(),
    canaryHash: hashColumn('canary_hash'),
    createdAt: createdAt(),
    expiresAt: instantColumn('expires_at').notNull(),
    consumedAt: instantColumn('consumed_at'),
  },
  (table) => [
    index('webauthn_ceremonies_expires_idx').on(table.expiresAt),
    // Registration finds its ceremony by the challenge the browser signed.
    index('webauthn_ceremonies_challenge_idx').on(table.challenge),
  ],
);

export type PasskeyRow = typeof passkeys.$inferSelect;
export type CeremonyRow = typeof webauthnCeremonies.$inferSelect;
