import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, codeFrom, createTestServer, linkTokenFrom, type TestServer } from '../harness/server';
import { enrolTotp, totpCode } from '../harness/totp';

const serverSource = fileURLToPath(new URL('../../../server/src', import.meta.url));

async function typesOf(t: TestServer, userId: string): Promise<Set<string>> {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT type FROM audit_events WHERE user_id = ?', [userId]);
  return new Set(rows.map((row) => String(row.type)));
}

describe('the audit trail', () => {
  it('declares only event types the service writes', async () => {
    const declaration = await readFile(path.join(serverSource, 'modules/audit/audit.ts'), 'utf8');
    const union = /export type AuditEventType =([^;]+);/.exec(declaration)?.[1] ?? '';
    const declared = [...union.matchAll(/'([a-z_]+\.[a-z_]+)'/gi)].map((match) => match[1] ?? '');
    expect(declared.length).toBeGreaterThan(20);
    const entries = await readdir(serverSource, { withFileTypes: true, recursive: true });
    let source = '';
    for (const entry of entries) {
      if (!entry.isFile() || !entry.name.endsWith('.ts') || entry.name.endsWith('.test.ts') || entry.name === 'audit.ts') continue;
      source += await readFile(path.join(entry.parentPath, entry.name), 'utf8');
    }
    expect(declared.filter((type) => !source.includes(`'${type}'`))).toEqual([]);
  });

  it("records a user's security history: sign-ins and failures, challenges, refreshes, reuse, revocations, step-ups, MFA, passwords", async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    // A failed and a successful sign-in; a challenged one from a new device, with a wrong code first.
    await t
      .client({ deviceOf: user.jar })
      .api.auth.login.mutate({ email: user.email, password: 'wrong password!' })
      .catch(() => null);
    const elsewhere = t.client();
    const challenge = await elsewhere.api.auth.login.mutate({ email: user.email, password: user.password });
    if (challenge.status !== 'mfa_required') throw new Error(challenge.status);
    const code = codeFrom(await t.lastMailTo(user.email));
    expect(
      await elsewhere.api.mfa.verify
        .mutate({ challengeId: challenge.challengeId, code: code === '000000' ? '111111' : '000000' })
        .catch(iamCodeOf),
    ).toBe('CODE_INVALID');
    authenticated(await elsewhere.api.mfa.verify.mutate({ challengeId: challenge.challengeId, code }));
    // A refresh in a new hour is recorded; the reuse of a spent token, and the revocation it causes.
    t.clock.advance(3600);
    const spent = elsewhere.jar.get('iam_rt') ?? '';
    authenticated(await elsewhere.api.session.refresh.mutate());
    t.clock.advance(120);
    await fetch(`${t.trpcUrl}/session.refresh`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie: `iam_rt=${spent}; iam_cid=${elsewhere.jar.get('iam_cid')}` },
      body: '{}',
    });
    // A step-up, TOTP on and off, a password change and a reset.
    const { secret } = await enrolTotp(user.api, t.clock.now());
    const stepUp = await user.api.mfa.stepUp.begin.mutate({ action: 'totp_disable' });
    t.clock.advance(30);
    const { stepUpToken } = await user.api.mfa.stepUp.verify.mutate({
      challengeId: stepUp.challengeId,
      code: totpCode(secret, t.clock.now()),
    });
    t.clock.advance(30);
    await user.api.mfa.totp.disable.mutate({ code: totpCode(secret, t.clock.now()), stepUpToken });
    await user.api.auth.changePassword.mutate({ currentPassword: user.password, newPassword: 'a brand new passphrase' });
    await user.api.auth.requestPasswordReset.mutate({ email: user.email });
    const reset = await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'password_reset');
    await t.client().api.auth.resetPassword.mutate({ token: linkTokenFrom(reset), password: 'yet another passphrase' });

    const types = await typesOf(t, user.userId);
    for (const type of [
      'user.signed_up',
      'user.email_verified',
      'login.failed',
      'login.challenged',
      'challenge.failed',
      'login.succeeded',
      'session.created',
      'session.refreshed',
      'session.refresh_reused',
      'session.revoked',
      'mfa.totp_enabled',
      'mfa.step_up_started',
      'mfa.step_up_verified',
      'mfa.totp_disabled',
      'password.changed',
      'password.reset_requested',
      'password.reset',
    ]) {
      expect(types.has(type), type).toBe(true);
    }
    // Rotations within the hour are not each recorded: at most one per session.
    const [refreshes] = await t.sql.query<RowDataPacket[]>(
      "SELECT session_id, COUNT(*) AS n FROM audit_events WHERE user_id = ? AND type = 'session.refreshed' GROUP BY session_id",
      [user.userId],
    );
    expect(refreshes.length).toBeGreaterThan(0);
    for (const row of refreshes) expect(Number(row.n)).toBe(1);
  });
});
