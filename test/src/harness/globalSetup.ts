import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { TestProject } from 'vitest/node';
import { startTestDatabaseServer } from './database';
import { outsideEnv } from './packages';
import { repoRoot } from './standalone';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A user that may create and drop databases on the run's test server; no database selected. */
    iamDatabaseAdminUrl: string;
  }
}

/**
 * One database server per test run; each test file creates its own database on it. And one
 * build per run (`pnpm build` when a package's `dist/` is older than its sources), before any
 * file starts: the suites that run the compiled service or pack the published packages share
 * it, and none of them rebuilds `dist/` under another.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const [database] = await Promise.all([
    startTestDatabaseServer(),
    promisify(execFile)(process.execPath, ['server/build/ensureBuilt.mjs', '--all'], {
      cwd: repoRoot,
      env: outsideEnv(),
      maxBuffer: 64 * 1024 * 1024,
    }),
  ]);
  project.provide('iamDatabaseAdminUrl', database.adminUrl);
  return () => database.stop();
}
