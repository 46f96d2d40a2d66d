import { iamCodeOf, isIamError } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { send } from '../harness/http';
import { createTestServer, uniqueEmail } from '../harness/server';

const settle = (promise: Promise<unknown>) =>
  promise.then(
    () => 'ok' as const,
    (error: unknown) => iamCodeOf(error) ?? 'network',
  );

describe('login limits', () => {
  it('after 5 consecutive failures from one IP the account is refused there for 15 minutes, even with the right password', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { api } = t.client();
    for (let i = 0; i < 5; i++) {
      expect(await settle(api.auth.login.mutate({ email: user.email, password: `wrong password ${i}` }))).toBe('INVALID_CREDENTIALS');
    }
    const refused = await api.auth.login.mutate({ email: user.email, password: user.password }).catch((error: unknown) => error);
    expect(isIamError(refused, 'RATE_LIMITED')).toBe(true);
    if (isIamError(refused)) {
      expect(refused.data.httpStatus).toBe(429);
      expect(refused.data.retryAfterSeconds).toBeGreaterThanOrEqual(14 * 60);
    }
    const [sessions] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', [user.userId]);
    expect(Number(sessions[0]?.n)).toBe(1); // only the sign-up's
  });

  it('refuses an unknown account exactly like a known one', async () => {
    await using t = await createTestServer();
    const { api } = t.client();
    const email = uniqueEmail('ghost');
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push(await settle(api.auth.login.mutate({ email, password: `guess number ${i}` })));
    expect(outcomes).toEqual([...Array(5).fill('INVALID_CREDENTIALS'), 'RATE_LIMITED']);
  });

  it('holds under parallel attempts: at most 5 failures are ever evaluated before the refusals start', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { api } = t.client();
    const outcomes = await Promise.all(
      Array.from({ length: 12 }, (_, i) => settle(api.auth.login.mutate({ email: user.email, password: `parallel guess ${i}` }))),
    );
    expect(outcomes.filter((outcome) => outcome === 'ok')).toHaveLength(0);
    expect(outcomes.filter((outcome) => outcome === 'INVALID_CREDENTIALS').length).toBeLessThanOrEqual(5);
    expect(outcomes.filter((outcome) => outcome === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(7);
    expect(await settle(api.auth.login.mutate({ email: user.email, password: user.password }))).toBe('RATE_LIMITED');
  });

  it('counts every call of a batch: ten logins in one request are ten attempts', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const batch = Array.from({ length: 10 }, (_, i) => ({ email: user.email, password: `batched guess ${i}` }));
    const body = Object.fromEntries(batch.map((input, i) => [String(i), { json: input }]));
    const response = await send(`${t.trpcUrl}/${batch.map(() => 'auth.login').join(',')}?batch=1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const codes = (response.body as Array<{ error?: { json: { data: { iamCode: string } } } }>).map(
      (item) => item.error?.json.data.iamCode,
    );
    expect(codes.filter((code) => code === 'INVALID_CREDENTIALS').length).toBeLessThanOrEqual(5);
    expect(codes.filter((code) => code === 'RATE_LIMITED').length).toBeGreaterThanOrEqual(5);
    expect(await settle(t.client().api.auth.login.mutate({ email: user.email, password: user.password }))).toBe('RATE_LIMITED');
  });

  it('never locks an account attacked from many IPs: past the threshold the right password yields an email challenge', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const user = await t.signUp();
    for (let i = 0; i < 10; i++) {
      const attacker = t.client({ headers: { 'x-forwarded-for': `203.0.113.${i + 1}` } });
      expect(await settle(attacker.api.auth.login.mutate({ email: user.email, password: `spray ${i}` }))).toBe('INVALID_CREDENTIALS');
    }
    const owner = t.client({ headers: { 'x-forwarded-for': '198.51.100.7' } });
    const result = await owner.api.auth.login.mutate({ email: user.email, password: user.password });
    expect(result.status).toBe('mfa_required');
    if (result.status !== 'mfa_required') return;
    expect(result.methods).toEqual(['email_otp']);
    expect(result.reasons).toContain('many_failed_attempts');
    expect(owner.jar.get('iam_rt')).toBeUndefined();

    const mail = await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'login_code');
    const code = /\b(\d{6})\b/.exec(mail.text ?? '')?.[1] ?? '';
    const signedIn = await owner.api.mfa.verify.mutate({ challengeId: result.challengeId, code });
    expect(signedIn.status).toBe('authenticated');
    expect(owner.jar.get('iam_rt')).toBeTruthy();
    // Proving the mailbox clears the suspicion: the next sign-in gets tokens directly.
    const again = await owner.api.auth.login.mutate({ email: user.email, password: user.password });
    expect(again.status).toBe('authenticated');
  });

  it('caps one IP at 100 failures a day across accounts', async () => {
    await using t = await createTestServer({ rateLimits: { loginFailuresPerIp: { points: 4 } } });
    const { api } = t.client();
    const outcomes = [];
    for (let i = 0; i < 5; i++)
      outcomes.push(await settle(api.auth.login.mutate({ email: uniqueEmail('spray'), password: 'a common guess' })));
    expect(outcomes).toEqual(['INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'INVALID_CREDENTIALS', 'RATE_LIMITED']);
  });
});
