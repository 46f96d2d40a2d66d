// Baseline: the raw refresh-token rotation transaction, through mysql2 on the service's own
// database and table: SELECT … FOR UPDATE the presented token's row, UPDATE it as used,
// INSERT its successor, one transaction per rotation, `concurrency` chains at once.
import { createHash, randomBytes } from 'node:crypto';
import mysql from 'mysql2/promise';
import { serveCommands } from '../lib/child';
import { timedLoop } from '../lib/loop';

/** An id shaped like the service's own (`ses_…`: a prefix and 128 random bits). */
function rowId(prefix: string): string {
  return `${prefix}_${randomBytes(16).toString('hex').slice(0, 26)}`;
}

const url = process.env.BENCH_DATABASE_URL;
if (!url) throw new Error('BENCH_DATABASE_URL is required');
// The service's pool options (server/src/db/client.ts).
const pool = mysql.createPool({ uri: url, timezone: 'Z', charset: 'utf8mb4_bin', connectionLimit: 16, maxIdle: 4, enableKeepAlive: true });

const hashOf = (token: string) => createHash('sha256').update(`refresh:${token}`).digest('hex');

interface Chain {
  sessionId: string;
  token: string;
  generation: number;
}

async function startChain(): Promise<Chain> {
  const chain = { sessionId: rowId('ses'), token: randomBytes(32).toString('base64url'), generation: 0 };
  await pool.query(
    'INSERT INTO refresh_tokens (id, session_id, token_hash, parent_id, generation, created_at) VALUES (?, ?, ?, NULL, 0, ?)',
    [rowId('rtk'), chain.sessionId, hashOf(chain.token), new Date()],
  );
  return chain;
}

async function rotate(chain: Chain): Promise<void> {
  const connection = await pool.getConnection();
  try {
    await connection.beginTransaction();
    const [rows] = await connection.query<mysql.RowDataPacket[]>(
      'SELECT id, session_id, token_hash, parent_id, generation, created_at, used_at, successor_sealed FROM refresh_tokens WHERE token_hash = ? FOR UPDATE',
      [hashOf(chain.token)],
    );
    const row = rows[0];
    if (!row || row.used_at !== null) throw new Error('the chain lost its live token');
    const now = new Date();
    const successor = randomBytes(32).toString('base64url');
    // The service stores the successor sealed (AES-256-GCM, ~100 characters); a value of that size.
    await connection.query('UPDATE refresh_tokens SET used_at = ?, successor_sealed = ? WHERE id = ?', [
      now,
      randomBytes(72).toString('base64url'),
      row.id,
    ]);
    await connection.query(
      'INSERT INTO refresh_tokens (id, session_id, token_hash, parent_id, generation, created_at) VALUES (?, ?, ?, ?, ?, ?)',
      [rowId('rtk'), chain.sessionId, hashOf(successor), row.id, chain.generation + 1, now],
    );
    await connection.commit();
    chain.token = successor;
    chain.generation++;
  } catch (error) {
    await connection.rollback().catch(() => undefined);
    throw error;
  } finally {
    connection.release();
  }
}

serveCommands(
  {},
  {
    run: async ({ concurrency, durationInMs }: { concurrency: number; durationInMs: number }) => {
      // Fresh chains every round, as the refresh target gets fresh sessions every round.
      const chains = await Promise.all(Array.from({ length: concurrency }, () => startChain()));
      return timedLoop({ concurrency, durationInMs }, (worker) => rotate(chains[worker] as Chain));
    },
  },
);
process.on('disconnect', () => void pool.end());
