import { defineConfig } from 'drizzle-kit';

// Migrations are generated from the schema (`pnpm db:generate`) and applied at start and by
// `pnpm db:migrate`; never pushed.
export default defineConfig({
  dialect: 'mysql',
  schema: './server/src/db/tables.ts',
  out: './drizzle',
  casing: 'snake_case',
});
