import { defineConfig } from 'drizzle-kit';

// Migrations are generated from the schema (`pnpm db:generate`) and applied at start and by
// `pnpm db:migrate`; never pushed. With DATABASE_URL set, `drizzle-kit migrate` applies them
// too, recording them in the same `__drizzle_migrations` table the service reads, so a later
// start applies nothing twice (it has no named lock, though: not while instances start).
const url = process.env.DATABASE_URL;

export default defineConfig({
  dialect: 'mysql',
  schema: './server/src/db/tables.ts',
  out: './drizzle',
  casing: 'snake_case',
  ...(url ? { dbCredentials: { url } } : {}),
});
