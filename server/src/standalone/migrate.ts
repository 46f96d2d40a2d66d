// `pnpm db:migrate`: applies pending migrations to DATABASE_URL (or the embedded database).
import { applyMigrations } from '../db/migrate';
import { loadEnv } from './env';
import { resolveDatabaseUrl } from './resolve';

const env = loadEnv();
const database = await resolveDatabaseUrl(env);
try {
  await applyMigrations(database.url);
  console.log('Migrations applied.');
} finally {
  await database.stop();
}
