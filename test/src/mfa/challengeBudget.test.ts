import { iamCodeOf, isIamError } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { errorOf, post } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';
import { challengeOf, enrolTotp, totpCode, wrongTotpCodes } from '../harness/totp';

async function enrolledUser(t: TestServer) {
  const user = await t.signUp();
  const enrolment = await enrolTotp(user.api, t.clock.now());
  // Past the step the confirmation used, so the current code is a fresh one.
  t.clock.advance(30);
  return { ...user, ...enrolment };
}

async function attemptsOf(t: TestServer, challengeId: string): Promise<number> {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT attempts FROM challenges WHERE id = ?', [challengeId]);
  return Number(rows[0]?.attempts);
}

describe('the wrong-code budget of a TOTP challenge', () => {
  it('5 wrong codes kill the challenge: the right code is refused after them', async () => {
    await using t = await createTestServer();
    const user = await enrolledUser(t);
    const { api } = t.client();
    const { challengeId } = challengeOf(await api.auth.login.mutate({ email: user.email, password: user.password }));
    const [a = '', b = '', c = '', d = ''] = wrongTotpCodes(user.secret, t.clock.now(), 4);
    // Wrong TOTP codes and wrong backup codes count alike.
    const guesses = [a, b, 'aaaaa-bbbbb', c, d];
    const outcomes: unknown[] = [];
    for (const code of guesses) outcomes.push(await api.mfa.verify.mutate({ challengeId, code }).catch(iamCodeOf));
    expect(outcomes).toEqual(['CODE_INVALID', 'CODE_INVALID', 'CODE_INVALID', 'CODE_INVALID', 'CHALLENGE_EXHAUSTED']);
    expect(await api.mfa.verify.mutate({ challengeId, code: totpCode(user.secret, t.clock.now()) }).catch(iamCodeOf)).toBe(
      'CHALLENGE_EXHAUSTED',
    );
    expect(await api.mfa.verify.mutate({ challengeId, code: user.backupCodes[0] ?? '' }).catch(iamCodeOf)).toBe('CHALLENGE_EXHAUSTED');
    expect(await attemptsOf(t, challengeId)).toBe(5);
    // Neither the TOTP step nor the backup code was spent by the dead challenge.
    const retry = t.client();
    const fresh = challengeOf(await retry.api.auth.login.mutate({ email: user.email, password: user.password }));
    const signedIn = await retry.api.mfa.verify.mutate({ challengeId: fresh.challengeId, code: totpCode(user.secret, t.clock.now()) });
    expect(signedIn.status).toBe('authenticated');
  });

  it('30 parallel wrong guesses on one challenge record exactly 5 attempts; the right code afterwards is refused', async () => {
    await using t = await createTestServer({ rateLimits: { codesPerIp: { points: 1_000 } } });
    const user = await enrolledUser(t);
    const { api } = t.client();
    const { challengeId } = challengeOf(await api.auth.login.mutate({ email: user.email, password: user.password }));
    const guesses = wrongTotpCodes(user.secret, t.clock.now(), 30);
    const responses = await Promise.all(
      guesses.map((code) => post(t.trpcUrl, 'mfa.verify', JSON.stringify({ json: { challengeId, code } }))),
    );
    const codes = responses.map((response) => {
      expect(response.status).toBe(400);
      return errorOf(response).iamCode;
    });
    expect(codes.filter((code) => code === 'CODE_INVALID')).toHaveLength(4);
    expect(codes.filter((code) => code === 'CHALLENGE_EXHAUSTED')).toHaveLength(26);
    expect(await attemptsOf(t, challengeId)).toBe(5);
    await expect(api.mfa.verify.mutate({ challengeId, code: totpCode(user.secret, t.clock.now()) })).rejects.toSatisfy((error) =>
      isIamError(error, 'CHALLENGE_EXHAUSTED'),
    );
    // The account's second factor saw only the 5 guesses that were judged.
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT failed_attempts FROM totp_credentials WHERE user_id = ?', [user.userId]);
    expect(Number(rows[0]?.failed_attempts)).toBe(5);
  });

  it('10 wrong codes across challenges throttle the account: the next try waits, then the right code works', async () => {
    await using t = await createTestServer();
    const user = await enrolledUser(t);
    const { api } = t.client();
    const wrong = wrongTotpCodes(user.secret, t.clock.now(), 10);
    for (let round = 0; round < 2; round++) {
      const { challengeId } = challengeOf(await api.auth.login.mutate({ email: user.email, password: user.password }));
      for (const code of wrong.slice(round * 5, round * 5 + 5)) await api.mfa.verify.mutate({ challengeId, code }).catch(iamCodeOf);
    }
    const { challengeId } = challengeOf(await api.auth.login.mutate({ email: user.email, password: user.password }));
    const throttled = await api.mfa.verify
      .mutate({ challengeId, code: totpCode(user.secret, t.clock.now()) })
      .catch((error: unknown) => error);
    expect(isIamError(throttled, 'RATE_LIMITED')).toBe(true);
    if (isIamError(throttled)) {
      expect(throttled.data.retryAfterSeconds).toBeGreaterThan(0);
      expect(throttled.data.retryAfterSeconds).toBeLessThanOrEqual(30);
    }
    // A throttled try is not judged, so it costs the challenge nothing.
    expect(await attemptsOf(t, challengeId)).toBe(0);
    t.clock.advance(31);
    const signedIn = await api.mfa.verify.mutate({ challengeId, code: totpCode(user.secret, t.clock.now()) });
    expect(signedIn.status).toBe('authenticated');
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT failed_attempts FROM totp_credentials WHERE user_id = ?', [user.userId]);
    expect(Number(rows[0]?.failed_attempts)).toBe(0);
  });
});
