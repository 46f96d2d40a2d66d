import { index, int, mysqlTable, uniqueIndex, varchar } from 'drizzle-orm/mysql-core';
import { createdAt, hashColumn, idColumn, instantColumn, jsonColumn } from './columns';

/** What the anomaly checks concluded at a refresh (explainable verdicts, shown in session.list). */
export interface SessionVerdict {
  decision: 'pass' | 'challenge' | 'deny';
  reasons: string[];
  /** Findings of checks in `log` mode: recorded, not acted on. */
  logged: string[];
  at: string;
  /** The latest challenge, kept when later refreshes pass, so users can see why they were asked. */
  lastChallenge?: { reasons: string[]; at: string };
}

/** One sign-in: the refresh-token family, bound to one device. */
export const sessions = mysqlTable(
  'sessions',
  {
    id: idColumn('id').primaryKey(),
    userId: idColumn('user_id').notNull(),
    deviceId: idColumn('device_id').notNull(),
    createdAt: createdAt(),
    lastUsedAt: instantColumn('last_used_at').notNull(),
    /** Absolute end of the session, whatever its activity. */
    expiresAt: instantColumn('expires_at').notNull(),
    revokedAt: instantColumn('revoked_at'),
    revokedReason: varchar('revoked_reason', { length: 32 }),
    ip: varchar('ip', { length: 45 }),
    userAgent: varchar('user_agent', { length: 512 }),
    browser: varchar('browser', { length: 64 }),
    os: varchar('os', { length: 64 }),
    deviceType: varchar('device_type', { length: 16 }).notNull(),
    country: varchar('country', { length: 2 }),
    // A subdivision's name as the geolocation data gives it (`Rio Grande do Sul`).
    region: varchar('region', { length: 100 }),
    city: varchar('city', { length: 100 }),
    /** The last anomaly verdict on this session, with its reasons (shown in session.list). */
    lastVerdict: jsonColumn<SessionVerdict>('last_verdict'),
    /** The organization the session acts in (org.switch): its access tokens carry `org` and `org_role` while the membership lasts. */
    activeOrganizationId: idColumn('active_organization_id'),
  },
  (table) => [
    // session.list, session.revokeAll: a user's sessions.
    index('sessions_user_idx').on(table.userId, table.revokedAt),
    // The revocation feed every instance polls: sessions revoked since a moment.
    index('sessions_revoked_at_idx').on(table.revokedAt),
    // Retention: sessions past their absolute lifetime.
    index('sessions_expires_at_idx').on(table.expiresAt),
  ],
);

/** One generation of a session's refresh token. Only the hash of the token is kept. */
export const refreshTokens = mysqlTable(
  'refresh_tokens',
  {
    id: idColumn('id').primaryKey(),
    sessionId: idColumn('session_id').notNull(),
    tokenHash: hashColumn('token_hash').notNull(),
    parentId: idColumn('parent_id'),
    generation: int('generation').notNull(),
    createdAt: createdAt(),
    usedAt: instantColumn('used_at'),
    /**
     * The successor token, encrypted under a key derived from this token, so a retry of
     * this token within the grace window gets the same successor while the database alone
     * holds nothing usable (AES-256-GCM, see `sealSuccessor`).
     */
    successorSealed: varchar('successor_sealed', { length: 255 }),
  },
  (table) => [
    // session.refresh: the presented token, by hash.
    uniqueIndex('refresh_tokens_hash_uq').on(table.tokenHash),
    // A session's tokens: revocation, and the refresh-velocity count over a recent window.
    index('refresh_tokens_session_created_idx').on(table.sessionId, table.createdAt),
  ],
);

export type SessionRow = typeof sessions.$inferSelect;
export type RefreshTokenRow = typeof refreshTokens.$inferSelect;
