// `@iam/server/standalone`: the standalone tooling for other programs (operators' scripts, test
// harnesses): the private embedded database, and the loaders of the environment and config file.

export { parseHmacKeys, withProcedureAllowlists } from '../modules/hmac/keys';
export { loadConfigFile } from './configFile';
export { initialiseDataDir } from './embeddedDatabase/dataDir';
export { type EmbeddedDatabase, type StartEmbeddedDatabaseOptions, startEmbeddedDatabase } from './embeddedDatabase/embeddedDatabase';
export type { DatabaseServer } from './embeddedDatabase/locate';
export { findDatabaseServer } from './embeddedDatabase/locate';
export type { EmbeddedDatabaseLogger } from './embeddedDatabase/processes';
export { type Env, loadEnv } from './env';
