import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Logger } from 'pino';
import { startEmbeddedDatabase } from './embeddedDatabase/embeddedDatabase';
import type { Env } from './env';

/** `DATABASE_URL`, or a private MariaDB/MySQL server provisioned under the data dir. */
export async function resolveDatabaseUrl(env: Env, logger?: Logger): Promise<{ url: string; stop(): Promise<void> }> {
  if (env.DATABASE_URL) return { url: env.DATABASE_URL, stop: async () => {} };
  const { createLogger } = await import('../logger');
  const embedded = await startEmbeddedDatabase({
    dataDir: path.resolve(env.IAM_DATA_DIR, 'mysql'),
    logger: logger ?? createLogger({ level: env.LOG_LEVEL }),
  });
  return { url: embedded.url, stop: () => embedded.stop() };
}

/**
 * `IAM_SECRET`, or outside production a secret generated once and kept under the data dir
 * (mode 0600), so development restarts keep their keys and sessions.
 */
export async function resolveSecret(env: Env): Promise<string> {
  if (env.IAM_SECRET) return env.IAM_SECRET;
  const file = path.resolve(env.IAM_DATA_DIR, 'secret');
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing.length >= 32) return existing;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const secret = randomBytes(32).toString('base64url');
  await writeFile(file, `${secret}\n`, { mode: 0o600, flag: 'wx' }).catch(async (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  return (await readFile(file, 'utf8')).trim();
}
