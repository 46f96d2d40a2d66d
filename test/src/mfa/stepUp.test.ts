import { iamCodeOf } from '@iam/client';
import { isIamError } from '@iam/server';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { codeFrom, createTestServer, uniqueEmail } from '../harness/server';
import { challengeOf, enrolTotp, totpCode } from '../harness/totp';

describe('step-up', () => {
  it('disabling TOTP needs a step-up token for totp_disable from this session, and the token works once', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { secret, backupCodes } = await enrolTotp(user.api, t.clock.now());
    const [spare1 = '', spare2 = ''] = backupCodes;

    // Without a token.
    expect(await user.api.mfa.totp.disable.mutate({ code: spare1 }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');

    // With a token for another action.
    const forEmail = await user.api.mfa.stepUp.begin.mutate({ action: 'email_change' });
    expect(forEmail).toEqual({
      status: 'mfa_required',
      challengeId: expect.any(String),
      methods: ['totp', 'backup_code'],
      reasons: ['step_up'],
    });
    t.clock.advance(30);
    const emailToken = await user.api.mfa.stepUp.verify.mutate({
      challengeId: forEmail.challengeId,
      code: totpCode(secret, t.clock.now()),
    });
    expect(emailToken.expiresAt.getTime() - t.clock.now().getTime()).toBeGreaterThan(290_000);
    expect(emailToken.expiresAt.getTime() - t.clock.now().getTime()).toBeLessThanOrEqual(300_000);
    expect(await user.api.mfa.totp.disable.mutate({ code: spare1, stepUpToken: emailToken.stepUpToken }).catch(iamCodeOf)).toBe(
      'STEP_UP_REQUIRED',
    );

    // With the right one: a wrong code is refused and leaves the token unspent ...
    const forDisable = await user.api.mfa.stepUp.begin.mutate({ action: 'totp_disable' });
    const { stepUpToken } = await user.api.mfa.stepUp.verify.mutate({ challengeId: forDisable.challengeId, code: spare2 });
    expect(await user.api.mfa.totp.disable.mutate({ code: spare2, stepUpToken }).catch(iamCodeOf)).toBe('CODE_INVALID');
    // ... and a fresh second factor disables.
    await expect(user.api.mfa.totp.disable.mutate({ code: spare1, stepUpToken })).resolves.toEqual({ status: 'disabled' });
    expect((await user.api.auth.me.query()).mfa.totp).toBe(false);
    for (const table of ['totp_credentials', 'backup_codes']) {
      const [rows] = await t.sql.query<RowDataPacket[]>(`SELECT COUNT(*) AS n FROM ${table} WHERE user_id = ?`, [user.userId]);
      expect(Number(rows[0]?.n)).toBe(0);
    }
    // Spent: it cannot be used again.
    expect(await user.api.mfa.totp.disable.mutate({ code: spare1, stepUpToken }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
    // Sign-in takes the password alone again.
    expect((await t.client({ deviceOf: user.jar }).api.auth.login.mutate({ email: user.email, password: user.password })).status).toBe(
      'authenticated',
    );
  });

  it('without TOTP the step-up code is emailed (no link); another session can neither answer the challenge nor spend the token', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const other = t.client({ deviceOf: user.jar });
    expect((await other.api.auth.login.mutate({ email: user.email, password: user.password })).status).toBe('authenticated');

    const challenge = await user.api.mfa.stepUp.begin.mutate({ action: 'email_change' });
    expect(challenge).toMatchObject({ status: 'mfa_required', methods: ['email_otp'], reasons: ['step_up'] });
    const mail = await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'login_code');
    expect(mail.text).not.toMatch(/token=/);
    const code = codeFrom(mail);

    // Another session of the same user: the challenge is not theirs (and no attempt is counted).
    expect(await other.api.mfa.stepUp.verify.mutate({ challengeId: challenge.challengeId, code }).catch(iamCodeOf)).toBe(
      'CHALLENGE_INVALID',
    );
    // Nor is it a sign-in challenge.
    expect(await t.client().api.mfa.verify.mutate({ challengeId: challenge.challengeId, code }).catch(iamCodeOf)).toBe('CHALLENGE_INVALID');
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT attempts FROM challenges WHERE id = ?', [challenge.challengeId]);
    expect(Number(rows[0]?.attempts)).toBe(0);

    const { stepUpToken } = await user.api.mfa.stepUp.verify.mutate({ challengeId: challenge.challengeId, code });
    // A token from this session, presented by another one: refused, and still unspent.
    const newEmail = uniqueEmail('moved');
    expect(await other.api.auth.requestEmailChange.mutate({ newEmail, stepUpToken }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
    await expect(user.api.auth.requestEmailChange.mutate({ newEmail, stepUpToken })).resolves.toEqual({ status: 'sent' });
  });

  it('takes the actions declared in config, which the host app guards with requireStepUp; tokens expire after 5 minutes', async () => {
    await using t = await createTestServer({ stepUpActions: ['delete_project'] });
    const user = await t.signUp();
    const { secret } = await enrolTotp(user.api, t.clock.now());
    const { sid } = await t.iam.verifyAccessToken(user.accessToken);
    expect(await user.api.mfa.stepUp.begin.mutate({ action: 'launch_rockets' }).catch(iamCodeOf)).toBe('INVALID_INPUT');
    expect(await user.api.mfa.stepUp.begin.mutate({ action: 'Not An Action' }).catch(iamCodeOf)).toBe('INVALID_INPUT');

    const stepUp = async () => {
      const { challengeId } = challengeOf(await user.api.mfa.stepUp.begin.mutate({ action: 'delete_project' }));
      t.clock.advance(30);
      return (await user.api.mfa.stepUp.verify.mutate({ challengeId, code: totpCode(secret, t.clock.now()) })).stepUpToken;
    };
    const refusal = (promise: Promise<unknown>) =>
      promise.then(
        () => 'allowed',
        (error: unknown) => (isIamError(error) ? error.code : error),
      );

    const token = await stepUp();
    expect(await refusal(t.iam.requireStepUp({ sessionId: sid, action: 'delete_project', stepUpToken: undefined }))).toBe(
      'STEP_UP_REQUIRED',
    );
    expect(await refusal(t.iam.requireStepUp({ sessionId: sid, action: 'email_change', stepUpToken: token }))).toBe('STEP_UP_REQUIRED');
    expect(await refusal(t.iam.requireStepUp({ sessionId: 'ses_someoneelse', action: 'delete_project', stepUpToken: token }))).toBe(
      'STEP_UP_REQUIRED',
    );
    expect(await refusal(t.iam.requireStepUp({ sessionId: sid, action: 'delete_project', stepUpToken: token }))).toBe('allowed');
    expect(await refusal(t.iam.requireStepUp({ sessionId: sid, action: 'delete_project', stepUpToken: token }))).toBe('STEP_UP_REQUIRED');

    // Ten parallel spenders of one token: exactly one wins.
    const contested = await stepUp();
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => refusal(t.iam.requireStepUp({ sessionId: sid, action: 'delete_project', stepUpToken: contested }))),
    );
    expect(outcomes.filter((outcome) => outcome === 'allowed')).toHaveLength(1);

    const late = await stepUp();
    t.clock.advance(5 * 60 + 1);
    expect(await refusal(t.iam.requireStepUp({ sessionId: sid, action: 'delete_project', stepUpToken: late }))).toBe('STEP_UP_REQUIRED');
    // Only hashes are kept.
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT token_hash FROM step_up_tokens WHERE user_id = ?', [user.userId]);
    expect(rows.map((row) => String(row.token_hash))).not.toContain(late);
  });
});
