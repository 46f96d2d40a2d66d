import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { refusalOf } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';
import { enrolTotp } from '../harness/totp';

async function rowsOf(t: TestServer, sql: string, params: unknown[]): Promise<RowDataPacket[]> {
  return (await t.sql.query<RowDataPacket[]>(sql, params))[0];
}

describe('account self-service', () => {
  it('updateProfile changes the name (null clears it), refuses markup, and is audited', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    expect(await user.api.auth.updateProfile.mutate({ name: '  Ada Lovelace ' })).toMatchObject({ id: user.userId, name: 'Ada Lovelace' });
    expect((await user.api.auth.me.query()).name).toBe('Ada Lovelace');
    expect(await user.api.auth.updateProfile.mutate({ name: '<img src=x onerror=alert(1)>' }).catch(iamCodeOf)).toMatch(
      /^(INVALID_INPUT|XSS_DETECTED)$/,
    );
    expect((await user.api.auth.me.query()).name).toBe('Ada Lovelace');
    expect((await user.api.auth.updateProfile.mutate({ name: null })).name).toBeNull();
    expect(
      await rowsOf(t, "SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ? AND type = 'user.profile_updated'", [user.userId]),
    ).toEqual([expect.objectContaining({ n: 2 })]);
    expect(await t.client().api.auth.updateProfile.mutate({ name: 'x' }).catch(iamCodeOf)).toBe('UNAUTHENTICATED');
  });

  it('exportData returns everything held about the caller and no secret', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    await enrolTotp(user.api, t.clock.now());
    const created = await user.api.apiKeys.create.mutate({ name: 'Nightly report', scopes: ['reports:read'] });
    const exported = await user.api.auth.exportData.query();
    expect(exported.apiKeys).toEqual([expect.objectContaining({ id: created.id, name: 'Nightly report', scopes: ['reports:read'] })]);
    expect(JSON.stringify(exported)).not.toContain(created.key);
    expect(exported.profile).toMatchObject({ id: user.userId, email: user.email, emailVerified: true, hasPassword: true });
    expect(exported.mfa).toEqual({ totpEnabledAt: expect.any(Date), backupCodesLeft: 10 });
    expect(exported.sessions).toHaveLength(1);
    expect(exported.devices).toHaveLength(1);
    expect(exported.auditEvents.map((event) => event.type)).toEqual(
      expect.arrayContaining(['user.signed_up', 'user.email_verified', 'mfa.totp_enabled']),
    );
    expect(exported.auditEventsTruncated).toBe(false);
    // Nothing secret: no hash, no TOTP secret, no canary, no token.
    const [row] = await rowsOf(t, 'SELECT password_hash FROM users WHERE id = ?', [user.userId]);
    const [device] = await rowsOf(t, 'SELECT canary_hash FROM devices WHERE user_id = ?', [user.userId]);
    const text = JSON.stringify(exported);
    expect(text).not.toContain(String(row?.password_hash));
    expect(text).not.toContain(String(device?.canary_hash));
    expect(text).not.toContain(user.jar.get('iam_rt') ?? 'no refresh token');
    expect(text).not.toMatch(/secret|passwordHash|canaryHash|codeHash/i);
  });

  it('deleteAccount needs a step-up, ends every session at once, erases the personal data, and frees the address', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    await user.api.auth.updateProfile.mutate({ name: 'To Be Deleted' });
    const other = await t.signInOn(t.client({ deviceOf: user.jar }), user);
    const bystander = await t.signUp();

    expect(await user.api.auth.deleteAccount.mutate({}).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
    expect(await user.api.auth.deleteAccount.mutate({ stepUpToken: await stepUpByMail(t, user, 'email_change') }).catch(iamCodeOf)).toBe(
      'STEP_UP_REQUIRED',
    );
    expect(await rowsOf(t, 'SELECT id FROM users WHERE id = ?', [user.userId])).toHaveLength(1);

    expect(await user.api.auth.deleteAccount.mutate({ stepUpToken: await stepUpByMail(t, user, 'account_delete') })).toEqual({
      status: 'deleted',
    });
    // Every session: this one, and the other one, at once.
    expect(await t.iam.verifyAccessToken(other.accessToken).catch((error: { code?: string }) => error.code)).toMatch(
      /^(SESSION_REVOKED|UNAUTHENTICATED)$/,
    );
    expect(await refusalOf(other.api.session.refresh.mutate())).toMatch(/^(REFRESH_TOKEN_INVALID|SESSION_REVOKED|UNAUTHENTICATED)$/);
    expect(await t.client().api.auth.login.mutate({ email: user.email, password: user.password }).catch(iamCodeOf)).toBe(
      'INVALID_CREDENTIALS',
    );

    // Personal data erased; the audit trail keeps a pseudonymous id and no address or detail.
    for (const table of ['users', 'devices', 'challenges', 'links', 'step_up_tokens', 'totp_credentials', 'backup_codes', 'passkeys']) {
      const column = table === 'users' ? 'id' : 'user_id';
      expect(await rowsOf(t, `SELECT 1 FROM ${table} WHERE ${column} = ?`, [user.userId]), table).toHaveLength(0);
    }
    expect(
      await rowsOf(t, 'SELECT ip, user_agent FROM sessions WHERE user_id = ? AND (ip IS NOT NULL OR user_agent IS NOT NULL)', [
        user.userId,
      ]),
    ).toHaveLength(0);
    expect(
      await rowsOf(t, 'SELECT 1 FROM refresh_tokens r JOIN sessions s ON s.id = r.session_id WHERE s.user_id = ?', [user.userId]),
    ).toHaveLength(0);
    const audit = await rowsOf(t, 'SELECT type, ip, user_agent, data FROM audit_events WHERE user_id = ?', [user.userId]);
    expect(audit.map((event) => event.type)).toEqual(expect.arrayContaining(['user.signed_up', 'user.deleted']));
    for (const event of audit.filter((row) => row.type !== 'user.deleted'))
      expect(event).toMatchObject({ ip: null, user_agent: null, data: null });
    expect(JSON.stringify(audit)).not.toContain(user.email);

    // Nobody else was touched, and the address can sign up again (a new account).
    await expect(bystander.api.auth.me.query()).resolves.toMatchObject({ id: bystander.userId });
    const again = await t.signUp({ email: user.email });
    expect(again.userId).not.toBe(user.userId);
  });
});
