import { index, mysqlTable, text, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, instantColumn, jsonColumn } from './columns';

/** Access-token signing keys. The private key is kept only encrypted under `IAM_SECRET`. */
export const signingKeys = mysqlTable(
  'signing_keys',
  {
    /** The JWS `kid`. */
    id: varchar('id', { length: 40 }).primaryKey(),
    alg: varchar('alg', { length: 16 }).notNull(),
    publicJwk: jsonColumn<Record<string, unknown>>('public_jwk').notNull(),
    privateKeySealed: text('private_key_sealed').notNull(),
    createdAt: createdAt(),
    /** Starts signing from this moment; published in the JWKS before it. */
    activatesAt: instantColumn('activates_at').notNull(),
    /** Stops signing from this moment; keeps verifying until `expiresAt`. */
    retiredAt: instantColumn('retired_at'),
    /** Dropped from the JWKS and from verification from this moment. */
    expiresAt: instantColumn('expires_at'),
  },
  (table) => [
    // Loading the keys that still verify, newest first.
    index('signing_keys_activates_idx').on(table.activatesAt),
  ],
);

export type SigningKeyRow = typeof signingKeys.$inferSelect;
