import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SummaryReporter } from './src/harness/summaryReporter';

export default defineConfig({
  test: {
    // The repository root, so unit tests beside their files in every package run too.
    root: fileURLToPath(new URL('..', import.meta.url)),
    include: ['test/src/**/*.test.ts', '{shared,server,client,emails}/src/**/*.test.{ts,tsx}'],
    exclude: ['**/node_modules/**', 'test/bench/**'],
    globalSetup: ['test/src/harness/globalSetup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default', new SummaryReporter()],
  },
});
