import type { TestProject } from 'vitest/node';
import { startTestDatabaseServer } from './database';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A user that may create and drop databases on the run's test server; no database selected. */
    iamDatabaseAdminUrl: string;
  }
}

/** One database server per test run; each test file creates its own database on it. */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const database = await startTestDatabaseServer();
  project.provide('iamDatabaseAdminUrl', database.adminUrl);
  return () => database.stop();
}
