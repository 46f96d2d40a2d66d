import { changeRole, type IamServer } from '@iam/server';
import { createTRPCClient, httpLink, TRPCClientError } from '@trpc/client';
import { initTRPC } from '@trpc/server';
import { createExpressMiddleware } from '@trpc/server/adapters/express';
import express from 'express';
import { describe, expect, it } from 'vitest';
import { get } from '../harness/http';
import { authenticated, createTestServer } from '../harness/server';

/** The host's own tRPC router, with one procedure guarded by the service. */
function createHostRouter(iam: IamServer) {
  const t = initTRPC.context<{ authorization: string | undefined }>().create();
  const adminProcedure = t.procedure.use(async ({ ctx, next }) =>
    next({ ctx: { iam: await iam.trpcGuard(ctx.authorization, { roles: ['admin'] }) } }),
  );
  return t.router({ stats: adminProcedure.query(({ ctx }) => ({ viewer: ctx.iam.userId, users: 42 })) });
}
type HostRouter = ReturnType<typeof createHostRouter>;

/** A host app that mounts the service under /auth next to routes and procedures of its own. */
function hostApp(iam: IamServer) {
  const app = express();
  app.use('/auth', iam.app);
  app.get('/api/public', (_req, res) => {
    res.json({ hello: 'world' });
  });
  app.get('/api/profile', iam.requireAuth(), (_req, res) => {
    res.json({ userId: res.locals.iam?.userId, roles: res.locals.iam?.roles });
  });
  app.get('/api/admin', iam.requireAuth({ roles: ['admin'] }), (_req, res) => {
    res.json({ secret: 'only for admins' });
  });

  app.use(
    '/host-trpc',
    createExpressMiddleware({ router: createHostRouter(iam), createContext: ({ req }) => ({ authorization: req.headers.authorization }) }),
  );
  return app;
}

describe('library mode: the service inside a host express app', () => {
  it('signs in through the mounted router and guards the host routes and procedures', async () => {
    await using t = await createTestServer({ basePath: '/auth', host: hostApp });
    const user = await t.signUp();
    const auth = { authorization: `Bearer ${user.accessToken}` };

    expect((await get(t.url, 'api/public', undefined)).status).toBe(200);
    const anonymous = await get(t.url, 'api/profile', undefined);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((anonymous.body as { error: { data: { iamCode: string } } }).error.data.iamCode).toBe('UNAUTHENTICATED');

    const profile = await get(t.url, 'api/profile', undefined, auth);
    expect(profile.status).toBe(200);
    expect(profile.body).toEqual({ userId: user.userId, roles: ['user'] });
    const forbidden = await get(t.url, 'api/admin', undefined, auth);
    expect(forbidden.status).toBe(403);
    expect((forbidden.body as { error: { data: { iamCode: string } } }).error.data.iamCode).toBe('FORBIDDEN');

    const host = createTRPCClient<HostRouter>({
      links: [httpLink({ url: `${t.url}/host-trpc`, headers: auth })],
    });
    await expect(host.stats.query()).rejects.toSatisfy((error) => error instanceof TRPCClientError && error.data?.code === 'FORBIDDEN');

    // Bootstrap an admin the way the `pnpm iam grant-role` command does; it reaches the token at the next refresh.
    await changeRole({ db: t.iam.services.db, clock: t.clock }, { email: user.email, role: 'admin', grant: true });
    const refreshed = authenticated(await user.api.session.refresh.mutate());
    const adminAuth = { authorization: `Bearer ${refreshed.accessToken}` };
    expect((await get(t.url, 'api/admin', undefined, adminAuth)).status).toBe(200);
    const adminHost = createTRPCClient<HostRouter>({ links: [httpLink({ url: `${t.url}/host-trpc`, headers: adminAuth })] });
    await expect(adminHost.stats.query()).resolves.toEqual({ viewer: user.userId, users: 42 });

    // A revoked session is refused by the host routes at once.
    await user.api.auth.logout.mutate();
    expect((await get(t.url, 'api/admin', undefined, adminAuth)).status).toBe(401);
  });

  it('serves a BFF in the same process through createCaller, without HTTP', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const caller = t.iam.createCaller({ bearerToken: user.accessToken });
    await expect(caller.auth.me()).resolves.toMatchObject({ id: user.userId, email: user.email });
    const sessions = await caller.session.list();
    expect(sessions.find((session) => session.current)).toBeTruthy();
    await expect(t.iam.createCaller().auth.me()).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    const claims = await t.iam.verifyAccessToken(user.accessToken);
    expect(claims.sub).toBe(user.userId);
  });
});
