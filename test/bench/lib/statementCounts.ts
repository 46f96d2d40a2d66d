// Statements per operation of the service: each operation called `calls` times one after
// another with nothing else running, counted from MariaDB's global counters against an idle
// window of the same length (lib/statements.ts); then one call of the hot ones through the
// general log, for the exact statements. Runs before the helpers start, so the service (and
// this connection) are the database's only clients.
import mysql from 'mysql2/promise';
import type { SeededAccount } from './accounts';
import { codeFromOutbox, dataOf, trpc } from './http';
import { type BenchUser, benchPassword, logIn, newCanary } from './seed';
import type { RunningService } from './service';
import { countStatements, elideLiterals, type StatementCount, sampleStatements } from './statements';

/** The goals: a refresh within one statement of the raw rotation transaction's 5, a login within 10. */
const goals: Record<string, number> = { refresh: 6, login: 10 };

export async function serviceStatements(opts: {
  service: RunningService;
  calls: number;
  /** Accounts not signed in yet, at least 2 × calls + 1 (one each, counted and sampled). */
  accounts: SeededAccount[];
  /** A signed-up account for the refresh chain, and an access token for auth.me. */
  refreshUser: BenchUser;
  meUser: BenchUser;
}): Promise<Record<string, StatementCount>> {
  const { service, calls } = opts;
  if (opts.accounts.length < 2 * calls + 1) throw new Error('not enough accounts to count sign-ins');
  const admin = await mysql.createConnection({ uri: service.adminUrl, timezone: 'Z' });
  try {
    const ping = async () => {
      const response = await fetch(`${service.trpcUrl}/system.ping`);
      if (!response.ok) throw new Error(`system.ping answered ${response.status}`);
      await response.arrayBuffer();
    };
    const me = async () => {
      const result = await trpc(service.trpcUrl, 'auth.me', { query: true, bearer: opts.meUser.accessToken });
      if (result.status !== 200) throw new Error(`auth.me answered ${result.status}`);
    };
    let refreshCookie = (await logIn(service, opts.refreshUser)).refreshCookie;
    const refresh = async () => {
      const result = await trpc(service.trpcUrl, 'session.refresh', { cookie: refreshCookie });
      const token = result.cookies.get('iam_rt');
      if (dataOf<{ status: string }>('session.refresh', result).status !== 'authenticated' || !token) {
        throw new Error('session.refresh did not rotate');
      }
      refreshCookie = `iam_rt=${token}; iam_cid=${opts.refreshUser.canary}`;
    };
    let nextAccount = 0;
    const login = async () => {
      const account = opts.accounts[nextAccount++] as SeededAccount;
      await logIn(service, { email: account.email, password: benchPassword, canary: account.canary, accessToken: '' });
    };
    const signups: Array<{ email: string; canary: string; challengeId: string; code?: string }> = [];
    const signup = async (i: number) => {
      const email = `statements-${i}@bench.test`;
      const canary = newCanary();
      const result = await trpc(service.trpcUrl, 'auth.signup', {
        input: { email, password: benchPassword, name: 'Bench' },
        cookie: `iam_cid=${canary}`,
      });
      signups.push({ email, canary, challengeId: dataOf<{ challengeId: string }>('auth.signup', result).challengeId });
    };
    const verify = async (i: number) => {
      const pending = signups[i];
      if (!pending?.code) throw new Error('no code for the sign-up');
      const result = await trpc(service.trpcUrl, 'auth.verifyEmail', {
        input: { challengeId: pending.challengeId, code: pending.code },
        cookie: `iam_cid=${pending.canary}`,
      });
      if (dataOf<{ status: string }>('auth.verifyEmail', result).status !== 'authenticated')
        throw new Error('auth.verifyEmail did not sign in');
    };

    const counts: Record<string, StatementCount> = {};
    counts.noop = await countStatements(admin, { what: 'system.ping', calls }, ping);
    counts.auth_me = await countStatements(admin, { what: 'auth.me with a cached access token', calls }, me);
    counts.refresh = await countStatements(
      admin,
      { what: 'session.refresh, one session rotated again and again', calls, goalMax: goals.refresh },
      refresh,
    );
    counts.login = await countStatements(
      admin,
      { what: 'auth.login, each call a different account on its own trusted device', calls, goalMax: goals.login },
      login,
    );
    // The mail each sign-up queues is delivered by the outbox worker within the window (it polls every second).
    counts.signup = await countStatements(
      admin,
      { what: 'auth.signup (account, challenge, verification mail queued and delivered)', calls, settleMs: 2_500 },
      signup,
    );
    for (const pending of signups) pending.code = await codeFromOutbox(service.dataDir, pending.email);
    counts.verify_email = await countStatements(
      admin,
      { what: 'auth.verifyEmail with the mailed code (completes the sign-up: device, session, token)', calls },
      verify,
    );

    const sampled = await sampleStatements(admin, [
      { name: 'noop', run: ping },
      { name: 'auth_me', run: me },
      { name: 'refresh', run: refresh },
      { name: 'login', run: login },
    ]);
    for (const [name, sample] of Object.entries(sampled)) {
      const count = counts[name];
      if (count) count.sample = sample.statements.map((statement) => elideLiterals(statement.text));
    }
    return counts;
  } finally {
    await admin.end();
  }
}
