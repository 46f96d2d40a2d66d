import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createBffClient, type IamClient, iamCodeOf } from '@iam/client';
import { createIamServer, createLogger } from '@iam/server';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { hmacKeys, mainKey } from '../bff/signed';
import { refusalOf } from '../harness/http';
import { authenticated, createTestServer, type TestServer, uniqueEmail } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { enrolTotp } from '../harness/totp';
import { createSoftwareAuthenticator } from '../harness/webauthn';

type User = Awaited<ReturnType<TestServer['signUp']>>;

/** A user made admin in the database, as `pnpm iam create-admin` does. */
async function signUpAdmin(t: TestServer): Promise<User> {
  const admin = await t.signUp();
  await t.sql.query(`UPDATE users SET roles = '["admin"]' WHERE id = ?`, [admin.userId]);
  return admin;
}

async function auditTypes(t: TestServer, userId: string): Promise<Array<{ type: string; actor_id: string | null }>> {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT type, actor_id FROM audit_events WHERE user_id = ? ORDER BY created_at, id', [
    userId,
  ]);
  return rows as Array<{ type: string; actor_id: string | null }>;
}

describe('admin: who may call', () => {
  it('refuses every admin procedure to an anonymous caller and to a user without the role, and each destructive one to an admin without a step-up', async () => {
    await using t = await createTestServer();
    const admin = await signUpAdmin(t);
    const user = await t.signUp();
    const target = { userId: user.userId };
    const calls: Array<{ name: string; destructive: boolean; call: (api: IamClient) => Promise<unknown> }> = [
      { name: 'users.list', destructive: false, call: (api) => api.admin.users.list.query({}) },
      { name: 'users.get', destructive: false, call: (api) => api.admin.users.get.query(target) },
      { name: 'users.revokeSessions', destructive: false, call: (api) => api.admin.users.revokeSessions.mutate(target) },
      { name: 'audit.query', destructive: false, call: (api) => api.admin.audit.query.query({}) },
      { name: 'users.disable', destructive: true, call: (api) => api.admin.users.disable.mutate(target) },
      { name: 'users.enable', destructive: true, call: (api) => api.admin.users.enable.mutate(target) },
      { name: 'users.resetMfa', destructive: true, call: (api) => api.admin.users.resetMfa.mutate(target) },
      { name: 'users.setRoles', destructive: true, call: (api) => api.admin.users.setRoles.mutate({ ...target, roles: ['admin'] }) },
      { name: 'users.delete', destructive: true, call: (api) => api.admin.users.delete.mutate(target) },
    ];
    const anonymous = t.client().api;
    for (const { name, destructive, call } of calls) {
      expect(await call(anonymous).then(() => 'allowed', iamCodeOf), `${name} anonymous`).toBe('UNAUTHENTICATED');
      expect(await call(user.api).then(() => 'allowed', iamCodeOf), `${name} without the role`).toBe('FORBIDDEN');
      if (destructive) expect(await call(admin.api).then(() => 'allowed', iamCodeOf), `${name} without step-up`).toBe('STEP_UP_REQUIRED');
    }
    // A step-up for another action does not do either.
    const other = await stepUpByMail(t, admin, 'email_change');
    expect(await admin.api.admin.users.disable.mutate({ ...target, stepUpToken: other }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
    // Nothing changed, and the user's token (which claims nothing) is still fine.
    const [row] = (await t.sql.query<RowDataPacket[]>('SELECT disabled_at, roles FROM users WHERE id = ?', [user.userId]))[0];
    expect(row).toMatchObject({ disabled_at: null });
    await expect(user.api.auth.me.query()).resolves.toMatchObject({ id: user.userId, roles: ['user'] });
    // A role removed in the database stops working at once, whatever the token says.
    await t.sql.query(`UPDATE users SET roles = '[]' WHERE id = ?`, [admin.userId]);
    expect(await admin.api.admin.users.list.query({}).catch(iamCodeOf)).toBe('FORBIDDEN');
  });
});

describe('admin: users', () => {
  it('lists by email prefix with a keyset cursor that stays stable under inserts', async () => {
    await using t = await createTestServer({ rateLimits: { signupPerIp: { points: 100 } } });
    const admin = await signUpAdmin(t);
    const prefix = `roster${Date.now().toString(36)}`;
    const emails = ['b', 'c', 'd', 'e', 'f'].map((letter) => `${prefix}-${letter}@example.com`);
    for (const email of emails) await t.signUp({ email });
    const first = await admin.api.admin.users.list.query({ query: prefix, limit: 2 });
    expect(first.items.map((item) => item.email)).toEqual(emails.slice(0, 2));
    expect(first.items[0]).toMatchObject({ disabled: false, sessions: 1, lastSignInAt: expect.any(Date), emailVerified: true });
    // Inserted meanwhile, before and after the cursor: nothing seen twice, nothing skipped.
    await t.signUp({ email: `${prefix}-a@example.com` });
    await t.signUp({ email: `${prefix}-g@example.com` });
    const seen = first.items.map((item) => item.email);
    let cursor = first.nextCursor;
    while (cursor) {
      const page = await admin.api.admin.users.list.query({ query: prefix, limit: 2, cursor });
      seen.push(...page.items.map((item) => item.email));
      cursor = page.nextCursor;
    }
    expect(seen).toEqual([...emails, `${prefix}-g@example.com`]);
    // By id, and by status.
    const [one] = (await admin.api.admin.users.list.query({ query: first.items[0]?.id })).items;
    expect(one?.email).toBe(emails[0]);
    expect((await admin.api.admin.users.list.query({ query: prefix, status: 'disabled' })).items).toEqual([]);
    // A prefix is literal: `%` and `_` match only themselves.
    expect((await admin.api.admin.users.list.query({ query: '%' })).items).toEqual([]);
  });

  it('disable ends every session at once on every instance, refuses refresh, sign-in and introspection; enable lets the user back', async () => {
    await using t = await createTestServer({ hmacKeys });
    const second = await createIamServer({ ...t.config, clock: t.clock, logger: createLogger({ level: 'silent' }), hibpApiUrl: null });
    try {
      const admin = await signUpAdmin(t);
      const user = await t.signUp();
      await expect(second.verifyAccessToken(user.accessToken)).resolves.toMatchObject({ sub: user.userId });
      const bff = createBffClient({ url: t.trpcUrl, keyId: mainKey.id, secret: mainKey.secret, now: () => t.clock.now().getTime() });

      expect(
        await admin.api.admin.users.disable.mutate({
          userId: user.userId,
          reason: 'abuse report 42',
          stepUpToken: await stepUpByMail(t, admin, 'admin'),
        }),
      ).toEqual({ status: 'disabled' });
      expect(await user.api.auth.me.query().catch(iamCodeOf)).toBe('SESSION_REVOKED');
      // The other instance learns it from the database within its poll.
      await expect
        .poll(
          () =>
            second.verifyAccessToken(user.accessToken).then(
              () => 'accepted',
              (error: { code?: string }) => error.code,
            ),
          {
            timeout: 3_000,
          },
        )
        .toBe('SESSION_REVOKED');
      expect((await bff.bff.introspect.mutate({ accessToken: user.accessToken })).active).toBe(false);
      expect(await refusalOf(t.client({ deviceOf: user.jar }).api.session.refresh.mutate())).toMatch(
        /^(REFRESH_TOKEN_INVALID|SESSION_REVOKED|UNAUTHENTICATED)$/,
      );
      expect(
        await t.client({ deviceOf: user.jar }).api.auth.login.mutate({ email: user.email, password: user.password }).catch(iamCodeOf),
      ).toBe('USER_DISABLED');
      // A wrong password still says only that.
      expect(await t.client().api.auth.login.mutate({ email: user.email, password: 'not the password' }).catch(iamCodeOf)).toBe(
        'INVALID_CREDENTIALS',
      );
      const detail = await admin.api.admin.users.get.query({ userId: user.userId });
      expect(detail).toMatchObject({ disabled: true, disabledReason: 'abuse report 42', sessions: [] });

      expect(
        await admin.api.admin.users.enable.mutate({ userId: user.userId, stepUpToken: await stepUpByMail(t, admin, 'admin') }),
      ).toEqual({
        status: 'enabled',
      });
      const back = await t.client({ deviceOf: user.jar }).api.auth.login.mutate({ email: user.email, password: user.password });
      expect(back.status).toBe('authenticated');
      expect((await auditTypes(t, user.userId)).filter((event) => event.actor_id !== null && event.type !== 'audit.admin_read')).toEqual([
        { type: 'user.disabled', actor_id: admin.userId },
        { type: 'user.enabled', actor_id: admin.userId },
      ]);
      // An admin cannot disable themselves.
      expect(
        await admin.api.admin.users.disable
          .mutate({ userId: admin.userId, stepUpToken: await stepUpByMail(t, admin, 'admin') })
          .catch(iamCodeOf),
      ).toBe('FORBIDDEN');
    } finally {
      await second.close();
    }
  });

  it('setRoles reaches the next token; an admin cannot remove their own admin role', async () => {
    await using t = await createTestServer();
    const admin = await signUpAdmin(t);
    const user = await t.signUp();
    expect(
      await admin.api.admin.users.setRoles.mutate({
        userId: user.userId,
        roles: ['support', 'billing'],
        stepUpToken: await stepUpByMail(t, admin, 'admin'),
      }),
    ).toEqual({ roles: ['billing', 'support'] });
    const refreshed = authenticated(await user.api.session.refresh.mutate());
    expect(refreshed.user.roles).toEqual(['billing', 'support']);
    expect(
      await admin.api.admin.users.setRoles
        .mutate({ userId: admin.userId, roles: ['support'], stepUpToken: await stepUpByMail(t, admin, 'admin') })
        .catch(iamCodeOf),
    ).toBe('FORBIDDEN');
    expect((await admin.api.auth.me.query()).roles).toContain('admin');
    const [changed] = (
      await t.sql.query<RowDataPacket[]>("SELECT actor_id, data FROM audit_events WHERE user_id = ? AND type = 'user.roles_changed'", [
        user.userId,
      ])
    )[0];
    expect(changed).toMatchObject({ actor_id: admin.userId, data: { from: ['user'], to: ['billing', 'support'] } });
  });

  it('revokeSessions and resetMfa: sessions end, the authenticator, backup codes and passkeys go, and the user is mailed', async () => {
    await using t = await createTestServer();
    const admin = await signUpAdmin(t);
    const user = await t.signUp();
    await enrolTotp(user.api, t.clock.now());
    const options = await user.api.passkey.registrationOptions.mutate();
    await user.api.passkey.register.mutate({
      response: createSoftwareAuthenticator().register(options, { origin: t.url, rpId: new URL(t.url).hostname }) as never,
    });
    expect((await user.api.auth.me.query()).mfa).toEqual({ totp: true, passkeys: 1 });

    expect(
      await admin.api.admin.users.resetMfa.mutate({ userId: user.userId, stepUpToken: await stepUpByMail(t, admin, 'admin') }),
    ).toEqual({
      status: 'reset',
    });
    await t.mail.waitFor((message) => message.to.includes(user.email) && /two-step sign-in was reset/i.test(message.subject));
    const detail = await admin.api.admin.users.get.query({ userId: user.userId });
    expect(detail.mfa).toEqual({ totp: false, totpEnabledAt: null, backupCodesLeft: 0, passkeys: 0 });
    expect(detail.passkeys).toEqual([]);

    expect(await admin.api.admin.users.revokeSessions.mutate({ userId: user.userId })).toEqual({ status: 'revoked', count: 1 });
    expect(await user.api.auth.me.query().catch(iamCodeOf)).toBe('SESSION_REVOKED');
    expect(await admin.api.admin.users.revokeSessions.mutate({ userId: 'usr_nobodyatallhere' }).catch(iamCodeOf)).toBe('NOT_FOUND');
  });

  it('delete erases the user as self-service deletion does; the admin keeps their own account', async () => {
    await using t = await createTestServer();
    const admin = await signUpAdmin(t);
    const user = await t.signUp();
    expect(await admin.api.admin.users.delete.mutate({ userId: user.userId, stepUpToken: await stepUpByMail(t, admin, 'admin') })).toEqual({
      status: 'deleted',
    });
    expect(await user.api.auth.me.query().catch(iamCodeOf)).toMatch(/^(SESSION_REVOKED|UNAUTHENTICATED)$/);
    expect((await t.sql.query<RowDataPacket[]>('SELECT 1 FROM users WHERE id = ?', [user.userId]))[0]).toHaveLength(0);
    const events = await auditTypes(t, user.userId);
    expect(events.filter((event) => event.actor_id !== null)).toEqual([{ type: 'user.deleted', actor_id: admin.userId }]);
    expect(
      await admin.api.admin.users.delete
        .mutate({ userId: admin.userId, stepUpToken: await stepUpByMail(t, admin, 'admin') })
        .catch(iamCodeOf),
    ).toBe('FORBIDDEN');
  });
});

describe('admin: audit', () => {
  it('queries by user, type and address, newest first, with a cursor, and every admin call names its actor', async () => {
    await using t = await createTestServer();
    const admin = await signUpAdmin(t);
    const user = await t.signUp();
    for (let i = 0; i < 3; i++)
      await t
        .client({ deviceOf: user.jar })
        .api.auth.login.mutate({ email: user.email, password: 'wrong password!' })
        .catch(() => null);
    await admin.api.admin.users.revokeSessions.mutate({ userId: user.userId });

    const failures = await admin.api.admin.audit.query.query({ userId: user.userId, types: ['login.failed'], limit: 2 });
    expect(failures.items).toHaveLength(2);
    expect(failures.items.every((item) => item.type === 'login.failed' && item.userId === user.userId)).toBe(true);
    expect(failures.items[0]?.at.getTime()).toBeGreaterThanOrEqual(failures.items[1]?.at.getTime() ?? 0);
    const rest = await admin.api.admin.audit.query.query({
      userId: user.userId,
      types: ['login.failed'],
      limit: 2,
      cursor: failures.nextCursor ?? '',
    });
    expect(rest.items).toHaveLength(1);
    expect(rest.nextCursor).toBeNull();
    expect(new Set([...failures.items, ...rest.items].map((item) => item.id)).size).toBe(3);

    const byIp = await admin.api.admin.audit.query.query({ ip: failures.items[0]?.ip ?? '', types: ['login.failed'] });
    expect(byIp.items.length).toBeGreaterThanOrEqual(3);
    const adminCalls = await admin.api.admin.audit.query.query({ types: ['user.sessions_revoked'] });
    expect(adminCalls.items).toEqual([expect.objectContaining({ userId: user.userId, actorId: admin.userId })]);
    const future = await admin.api.admin.audit.query.query({ from: new Date(Date.now() + 3_600_000) });
    expect(future.items).toEqual([]);
    expect(await admin.api.admin.audit.query.query({ limit: 501 }).catch(iamCodeOf)).toBe('INVALID_INPUT');

    // Reads are audited with the actor too: who looked at whom.
    await admin.api.admin.users.get.query({ userId: user.userId });
    await admin.api.admin.users.list.query({ query: 'someone@' });
    const [reads] = await t.sql.query<RowDataPacket[]>(
      "SELECT user_id, actor_id, data FROM audit_events WHERE type = 'audit.admin_read' AND actor_id = ? ORDER BY created_at, id",
      [admin.userId],
    );
    expect(reads).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ user_id: user.userId, data: { procedure: 'admin.users.get' } }),
        expect.objectContaining({ user_id: null, data: { procedure: 'admin.users.list', query: 'someone@' } }),
      ]),
    );
  });
});

describe('pnpm iam create-admin', () => {
  it('makes an existing account an admin, and says so when no account has the address', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const repoRoot = fileURLToPath(new URL('../../..', import.meta.url));
    const run = (args: string[]) =>
      promisify(execFile)('node', ['--import', 'tsx', 'server/src/standalone/cli.ts', ...args], {
        cwd: repoRoot,
        env: { ...process.env, DATABASE_URL: t.config.databaseUrl, NODE_ENV: 'development', LOG_LEVEL: 'warn' },
      }).then(
        (result) => ({ code: 0, out: result.stdout }),
        (error: { code?: number; stderr?: string }) => ({ code: error.code, out: error.stderr ?? '' }),
      );
    expect(await run(['create-admin', user.email])).toMatchObject({ code: 0, out: expect.stringContaining('is an admin') });
    await expect(user.api.admin.users.list.query({ query: user.email })).resolves.toMatchObject({ items: [{ id: user.userId }] });
    expect(await run(['create-admin', uniqueEmail('nobody')])).toMatchObject({
      code: 1,
      out: expect.stringContaining('sign up with it first'),
    });
    expect(await run(['--help'])).toMatchObject({ code: 0, out: expect.stringContaining('create-admin') });
  });
});
