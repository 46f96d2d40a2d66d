// `pnpm iam <command>`: operator commands against DATABASE_URL (or the embedded database).
//   pnpm iam create-admin <email>          makes the account of <email> an admin (the first one)
//   pnpm iam grant-role <email> <role>
//   pnpm iam revoke-role <email> <role>
//   pnpm iam rotate-keys [--now]           new signing key (published first; --now: at once, old key dropped)
import { createDatabasePools } from '../db/client';
import { applyMigrations } from '../db/migrate';
import { createLogger } from '../logger';
import { systemClock } from '../modules/clock';
import { changeRole } from '../modules/users/roles';
import { loadEnv } from './env';
import { resolveDatabaseUrl, resolveSecret } from './resolve';
import { waitForDatabase } from './waitForDatabase';

const [command, ...args] = process.argv.slice(2);
const usage = 'usage: pnpm iam create-admin <email> | grant-role <email> <role> | revoke-role <email> <role> | rotate-keys [--now]';
if (command === undefined || command === '--help' || command === 'help' || command === '-h') {
  console.log(usage);
  process.exit(command === undefined ? 2 : 0);
}

let env: ReturnType<typeof loadEnv>;
try {
  env = loadEnv();
} catch (error) {
  console.error((error as Error).message);
  process.exit(1);
}
const logger = createLogger({ level: 'warn' });
const database = await resolveDatabaseUrl(env, logger);
let exitCode = 0;
try {
  await waitForDatabase(database.url, { timeoutInSeconds: env.DATABASE_CONNECT_TIMEOUT_SECONDS, logger });
  await applyMigrations(database.url);
  const pools = createDatabasePools({ url: database.url, connectionLimit: 2, auxConnectionLimit: 1 });
  try {
    exitCode = await run(pools);
  } finally {
    await pools.close();
  }
} catch (error) {
  console.error((error as Error).message);
  exitCode = 1;
} finally {
  await database.stop();
}
process.exit(exitCode);

async function run(pools: ReturnType<typeof createDatabasePools>): Promise<number> {
  switch (command) {
    case 'create-admin': {
      const [email] = args;
      if (!email) break;
      const roles = await changeRole({ db: pools.db, clock: systemClock }, { email, role: 'admin', grant: true });
      if (!roles) {
        console.error(`No account has the address ${email}: sign up with it first, then run this again.`);
        return 1;
      }
      console.log(`${email} is an admin (roles: ${roles.join(', ')}). It takes effect at the next sign-in or refresh.`);
      return 0;
    }
    case 'grant-role':
    case 'revoke-role': {
      const [email, role] = args;
      if (!email || !role) break;
      const roles = await changeRole({ db: pools.db, clock: systemClock }, { email, role, grant: command === 'grant-role' });
      if (!roles) {
        console.error(`No account has the address ${email}.`);
        return 1;
      }
      console.log(`${email} now has the roles: ${roles.join(', ') || '(none)'}. It takes effect at the next refresh.`);
      return 0;
    }
    case 'rotate-keys': {
      const { createSigningKeyStore } = await import('../modules/tokens/signingKeys');
      const keys = createSigningKeyStore({ db: pools.db, secret: await resolveSecret(env), clock: systemClock, logger });
      await keys.init();
      const result = await keys.rotate({ immediately: args.includes('--now'), accessTokenTtlInSeconds: env.ACCESS_TOKEN_TTL_SECONDS });
      console.log(
        `New signing key ${result.kid} ${result.activatesAt <= new Date() ? 'signs from now' : `signs from ${result.activatesAt.toISOString()}`}; ` +
          `previous keys verify until ${result.previousExpireAt.toISOString()}.`,
      );
      return 0;
    }
  }
  console.error(usage);
  return 2;
}
