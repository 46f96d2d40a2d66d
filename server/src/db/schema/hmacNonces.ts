import { index, mysqlTable, primaryKey, varchar } from 'drizzle-orm/mysql-core';
import { hashColumn, instantColumn } from './columns';

/**
 * Nonces of HMAC-signed service requests: each is accepted once per key, across every
 * instance and restart (docs/api.md, HMAC request signing). Only a hash of the nonce is kept; a
 * row lives until the request's timestamp has left the ±300 s window (plus a margin), then
 * the sweep deletes it.
 */
export const hmacNonces = mysqlTable(
  'hmac_nonces',
  {
    keyId: varchar('key_id', { length: 64 }).notNull(),
    nonceHash: hashColumn('nonce_hash').notNull(),
    expiresAt: instantColumn('expires_at').notNull(),
  },
  (table) => [
    // Claiming a nonce is an INSERT; a duplicate key is a replay.
    primaryKey({ name: 'hmac_nonces_pk', columns: [table.keyId, table.nonceHash] }),
    // The sweep: DELETE … WHERE expires_at < now.
    index('hmac_nonces_expires_idx').on(table.expiresAt),
  ],
);

export type HmacNonceRow = typeof hmacNonces.$inferSelect;
