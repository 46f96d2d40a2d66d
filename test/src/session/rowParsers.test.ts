import { createRequire } from 'node:module';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { authenticated, createTestServer } from '../harness/server';

// mysql2 compiles one row parser per distinct result shape, column names included, and keeps
// up to 15,000 of them. A computed column without an alias is named after its SQL text with the
// parameters written in (a timestamp, an address), so every call would compile a new parser
// and the cache would grow to its cap: CPU on every call, and hundreds of MB held.
const requireFromServer = createRequire(require.resolve('@iam/server'));
type Compile = (...args: unknown[]) => unknown;
const parserCache = requireFromServer(path.join(path.dirname(requireFromServer.resolve('mysql2')), 'lib/parsers/parser_cache.js')) as {
  getParser(type: string, fields: unknown, options: unknown, config: unknown, compile: Compile): unknown;
};

/** Counts the row parsers mysql2 compiles (cache misses) while `work` runs. */
async function parsersCompiledBy(work: () => Promise<void>): Promise<number> {
  const getParser = parserCache.getParser;
  let compiled = 0;
  parserCache.getParser = (type, fields, options, config, compile) =>
    getParser(type, fields, options, config, (...args: unknown[]) => {
      compiled++;
      return compile(...args);
    });
  try {
    await work();
  } finally {
    parserCache.getParser = getParser;
  }
  return compiled;
}

describe('result shapes of the hot paths', () => {
  it('sign-in, refresh, auth.me and sign-out compile their row parsers once, not once per call', async () => {
    const roomy = { points: 1_000 };
    await using t = await createTestServer({ rateLimits: { signupPerIp: roomy, loginPerIp: roomy, loginFailuresPerIp: roomy } });
    const journey = async () => {
      const user = await t.signUp();
      const again = t.client({ deviceOf: user.jar });
      authenticated(await again.api.auth.login.mutate({ email: user.email, password: user.password }));
      t.clock.advance(5);
      authenticated(await again.api.session.refresh.mutate());
      await again.api.auth.me.query();
      await again.api.session.list.query();
      // A wrong password and an unknown address take the refusal paths.
      await again.api.auth.login.mutate({ email: user.email, password: `${user.password} wrong` }).catch(() => undefined);
      await again.api.auth.login.mutate({ email: `nobody-${user.userId}@example.com`, password: user.password }).catch(() => undefined);
      await again.api.auth.logout.mutate();
    };
    // The first journeys compile what they need (the background work too, within them).
    expect(await parsersCompiledBy(journey)).toBeGreaterThan(0);
    await journey();
    // The same journeys by other accounts, at other times: no new shape.
    const compiled = await parsersCompiledBy(async () => {
      for (let i = 0; i < 4; i++) {
        t.clock.advance(60);
        await journey();
      }
    });
    expect(compiled).toBe(0);
  });
});
