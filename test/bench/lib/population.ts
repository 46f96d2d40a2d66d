// The growth phase's population: users with 10 sessions each over 2 devices, and each session's
// refresh tokens, seeded in SQL into the service's own tables, copies of a template account's
// rows (server/src/db/schema/: users, devices, sessions, refresh_tokens) with ids in the
// service's format. Numbered rows derive their ids from their numbers, so a session's user,
// device and tokens are found without reading anything back.
import { randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import type { SeededAccount } from './accounts';
import { cloneRows, seededCanary, sqlCanary, sqlCanaryHash, sqlId, sqlIdBytes, sqlString } from './sqlSeed';

export const sessionsPerUser = 10;
/** Of every 10 sessions: 6 live, 2 expired and 2 revoked (within the day the retention sweep keeps them). */
const liveOf10 = 6;
const expiredOf10 = 2;

/** The template account's rows the population copies. */
export interface PopulationTemplate {
  userId: string;
  deviceId: string;
  sessionId: string;
  refreshTokenId: string;
}

export async function populationTemplate(databaseUrl: string, userId: string): Promise<PopulationTemplate> {
  const connection = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' });
  try {
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT s.device_id AS deviceId, s.id AS sessionId, r.id AS refreshTokenId FROM sessions s ' +
        'JOIN refresh_tokens r ON r.session_id = s.id WHERE s.user_id = ? ORDER BY s.created_at DESC LIMIT 1',
      [userId],
    );
    const row = rows[0];
    if (!row) throw new Error(`the template user ${userId} has no session`);
    return { userId, deviceId: String(row.deviceId), sessionId: String(row.sessionId), refreshTokenId: String(row.refreshTokenId) };
  } finally {
    await connection.end();
  }
}

/** A population that grows in steps: sessions 1…N, users 1…N/10, devices 1…N/5. */
export interface Population {
  salt: string;
  sessions: number;
  /** Rows in the service's tables after the last step, by table (every row, not only the seeded). */
  tableRows: Record<string, number>;
  /** Seconds the last step spent on each table. */
  stepSeconds: Record<string, number>;
}

export function newPopulation(): Population {
  return { salt: `growth.${randomBytes(8).toString('hex')}.`, sessions: 0, tableRows: {}, stepSeconds: {} };
}

/** A seeded user of the population as a browser signs in: its address and its trusted device's canary. */
export function populationAccount(population: Population, user: number): SeededAccount {
  return { email: `growth-${user}@bench.test`, canary: seededCanary(population.salt, `c${user}`) };
}

/**
 * Runs `work` with InnoDB's buffer pool and redo log raised to `bytes`, and gives both their
 * configured sizes back afterwards (resized in place; the service keeps its connections). The
 * embedded server's small pool and log (64 and 32 MiB) would make millions of inserts at random
 * keys crawl, and would measure a million sessions on a pool a fiftieth of the data.
 */
export async function withLargerInnoDb<T>(adminUrl: string, bytes: number, work: () => Promise<T>): Promise<T> {
  const connection = await mysql.createConnection({ uri: adminUrl });
  const status = async () => {
    const [[row]] = (await connection.query(
      "SELECT VARIABLE_VALUE AS status FROM information_schema.GLOBAL_STATUS WHERE VARIABLE_NAME = 'INNODB_BUFFER_POOL_RESIZE_STATUS'",
    )) as unknown as [[{ status: string | null } | undefined]];
    return row?.status ?? '';
  };
  // The pool resizes in the background; its status says so until it is done.
  const resize = async (poolBytes: number, logBytes: number) => {
    await connection.query(`SET GLOBAL innodb_log_file_size = ${logBytes}`);
    await connection.query(`SET GLOBAL innodb_buffer_pool_size = ${poolBytes}`);
    for (let attempt = 0; attempt < 300; attempt++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      if (!/resiz|withdraw|allocat/i.test(await status())) return;
    }
  };
  try {
    const [[configured]] = (await connection.query(
      'SELECT @@GLOBAL.innodb_buffer_pool_size AS pool, @@GLOBAL.innodb_log_file_size AS log',
    )) as unknown as [[{ pool: number | string; log: number | string }]];
    const pool = Number(configured.pool);
    const log = Number(configured.log);
    if (pool >= bytes) return await work();
    await resize(bytes, Math.max(log, bytes));
    try {
      return await work();
    } finally {
      await resize(pool, log);
    }
  } finally {
    await connection.end();
  }
}

/** Adds sessions (with their users, devices and tokens) until the population holds `sessions`. */
export async function growPopulation(
  databaseUrl: string,
  template: PopulationTemplate,
  population: Population,
  sessions: number,
): Promise<void> {
  if (sessions % sessionsPerUser !== 0 || sessions <= population.sessions) throw new Error(`cannot grow to ${sessions} sessions`);
  const salt = sqlString(population.salt);
  const bytes = (tag: string, number: string) => sqlIdBytes(`CONCAT(${salt}, '${tag}', ${number})`);
  const firstUser = population.sessions / sessionsPerUser + 1;
  const lastUser = sessions / sessionsPerUser;
  const database = new URL(databaseUrl).pathname.slice(1);
  // One instant for every row of the step, whichever connection writes it.
  const now = new Date().toISOString().replace('T', ' ').replace('Z', '');
  const steps: Array<{ name: string; spec: CloneSpec }> = [];
  const step = (name: string, spec: CloneSpec) => steps.push({ name, spec });
  const day = 86_400;
  const ago = (seconds: string) => `(TIMESTAMP'${now}' - INTERVAL (${seconds}) SECOND)`;

  step('users', {
    database,
    table: 'users',
    templateWhere: 'tpl.id = ?',
    templateParams: [template.userId],
    from: firstUser,
    to: lastUser,
    derived: { u: bytes('u', 'seq') },
    overrides: {
      id: sqlId('usr', 's.u'),
      email: "CONCAT('growth-', s.seq, '@bench.test')",
      email_normalized: "CONCAT('growth-', s.seq, '@bench.test')",
      created_at: ago(`${40 * day} + s.seq % ${20 * day}`),
      updated_at: ago(`${40 * day} + s.seq % ${20 * day}`),
    },
  });

  // Device 2u-1 is the user's trusted browser (its canary is the account's); 2u another, not trusted.
  step('devices', {
    database,
    table: 'devices',
    templateWhere: 'tpl.id = ?',
    templateParams: [template.deviceId],
    from: 2 * firstUser - 1,
    to: 2 * lastUser,
    derived: {
      d: bytes('d', 'seq'),
      u: bytes('u', 'CEIL(seq / 2)'),
      c: sqlCanary(`CONCAT(${salt}, 'c', CEIL(seq / 2))`),
      other: `SHA2(CONCAT(${salt}, 'x', seq), 256)`,
    },
    overrides: {
      id: sqlId('dev', 's.d'),
      user_id: sqlId('usr', 's.u'),
      canary_hash: `IF(s.seq % 2 = 1, ${sqlCanaryHash('s.c')}, s.other)`,
      created_at: ago(`${35 * day} + s.seq % ${day}`),
      last_seen_at: ago(`s.seq * 104729 % ${day}`),
      trusted_at: `IF(s.seq % 2 = 1, ${ago(`${35 * day} + s.seq % ${day}`)}, NULL)`,
    },
  });

  // Session n belongs to user ceil(n/10), on device 2u-1 (odd n) or 2u (even n).
  const kind = 's.seq % 10';
  const live = `${kind} < ${liveOf10}`;
  const expired = `${kind} < ${liveOf10 + expiredOf10}`;
  const createdAt =
    `CASE WHEN ${live} THEN ${ago(`${day} + s.seq * 7919 % ${20 * day}`)} ` +
    `WHEN ${expired} THEN ${ago(`${30 * day + 3600} + s.seq * 7919 % ${22 * 3600}`)} ` +
    `ELSE ${ago(`${2 * day} + s.seq * 7919 % ${20 * day}`)} END`;
  const lastUsedAt =
    `CASE WHEN ${live} THEN ${ago(`s.seq * 104729 % ${day}`)} ` +
    `WHEN ${expired} THEN ${ago(`${10 * day} + s.seq * 104729 % ${day}`)} ` +
    `ELSE ${ago(`3600 + s.seq * 104729 % ${22 * 3600}`)} END`;
  const sessionDerived = { s_id: bytes('s', 'seq'), u: bytes('u', 'CEIL(seq / 10)'), d: bytes('d', '2 * CEIL(seq / 10) - seq % 2') };
  step('sessions', {
    database,
    table: 'sessions',
    templateWhere: 'tpl.id = ?',
    templateParams: [template.sessionId],
    from: population.sessions + 1,
    to: sessions,
    derived: sessionDerived,
    overrides: {
      id: sqlId('ses', 's.s_id'),
      user_id: sqlId('usr', 's.u'),
      device_id: sqlId('dev', 's.d'),
      created_at: createdAt,
      last_used_at: lastUsedAt,
      expires_at: `(${createdAt}) + INTERVAL 30 DAY`,
      revoked_at: `IF(${expired}, NULL, ${ago(`3600 + s.seq * 104729 % ${22 * 3600}`)})`,
      revoked_reason: `IF(${expired}, NULL, ELT(1 + s.seq % 3, 'logout', 'user', 'session_limit'))`,
    },
  });

  // Every session has its first token; a live one spent it, sealing its successor, which is live.
  const tokenHash = (generation: number) => `SHA2(CONCAT(${salt}, 't${generation}.', s.seq), 256)`;
  step('refresh_tokens', {
    database,
    table: 'refresh_tokens',
    templateWhere: 'tpl.id = ?',
    templateParams: [template.refreshTokenId],
    from: population.sessions + 1,
    to: sessions,
    derived: { r: bytes('r0.', 'seq'), s_id: sessionDerived.s_id },
    overrides: {
      id: sqlId('rtk', 's.r'),
      session_id: sqlId('ses', 's.s_id'),
      token_hash: tokenHash(0),
      parent_id: 'NULL',
      generation: '0',
      created_at: createdAt,
      used_at: `IF(${live}, ${lastUsedAt}, NULL)`,
      successor_sealed: `IF(${live}, ${sqlCanary(`CONCAT(${salt}, 'z', s.seq)`)}, NULL)`,
    },
  });
  step('refresh_tokens_live', {
    database,
    table: 'refresh_tokens',
    templateWhere: 'tpl.id = ?',
    templateParams: [template.refreshTokenId],
    from: population.sessions + 1,
    to: sessions,
    where: live,
    derived: { r: bytes('r1.', 'seq'), p: bytes('r0.', 'seq'), s_id: sessionDerived.s_id },
    overrides: {
      id: sqlId('rtk', 's.r'),
      session_id: sqlId('ses', 's.s_id'),
      token_hash: tokenHash(1),
      parent_id: sqlId('rtk', 's.p'),
      generation: '1',
      created_at: lastUsedAt,
      used_at: 'NULL',
      successor_sealed: 'NULL',
    },
  });
  population.stepSeconds = await runSteps(databaseUrl, steps);
  population.sessions = sessions;
  const connection = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' });
  try {
    population.tableRows = {};
    for (const table of ['users', 'devices', 'sessions', 'refresh_tokens']) {
      const [[row]] = (await connection.query(`SELECT COUNT(*) AS n FROM \`${table}\``)) as unknown as [[{ n: number }]];
      population.tableRows[table] = Number(row.n);
    }
  } finally {
    await connection.end();
  }
}

type CloneSpec = Parameters<typeof cloneRows>[1];

/** Parallel writers: the rows have no foreign keys and derive their ids, so any chunk may go first. */
const writers = 4;

/**
 * Runs the steps' chunks on `writers` connections at once (each chunk its own statement), so
 * seeding uses the machine's cores; returns the seconds of writing spent on each step.
 */
async function runSteps(databaseUrl: string, steps: Array<{ name: string; spec: CloneSpec }>): Promise<Record<string, number>> {
  const chunkRows = 20_000;
  const jobs = steps.flatMap(({ name, spec }) => {
    const chunks: Array<{ name: string; spec: CloneSpec }> = [];
    for (let first = spec.from; first <= spec.to; first += chunkRows) {
      chunks.push({ name, spec: { ...spec, from: first, to: Math.min(spec.to, first + chunkRows - 1), chunk: chunkRows } });
    }
    return chunks;
  });
  const seconds: Record<string, number> = {};
  let next = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      const connection = await mysql.createConnection({ uri: databaseUrl, timezone: 'Z' });
      try {
        // The template row is read without a shared lock (under REPEATABLE READ, INSERT … SELECT would lock it).
        await connection.query('SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED');
        while (next < jobs.length) {
          const job = jobs[next++];
          if (!job) break;
          const startedAt = performance.now();
          // Writers copying the same template row may deadlock on it; a chunk is one statement, rolled back whole.
          for (let attempt = 1; ; attempt++) {
            try {
              await cloneRows(connection, job.spec);
              break;
            } catch (error) {
              const code = (error as { code?: string }).code;
              if (attempt >= 5 || (code !== 'ER_LOCK_DEADLOCK' && code !== 'ER_LOCK_WAIT_TIMEOUT')) throw error;
            }
          }
          seconds[job.name] = (seconds[job.name] ?? 0) + (performance.now() - startedAt) / 1000;
        }
      } finally {
        await connection.end();
      }
    }),
  );
  return Object.fromEntries(Object.entries(seconds).map(([name, value]) => [name, Math.round(value * 10) / 10]));
}
