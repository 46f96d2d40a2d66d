import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { createTestServer } from '../harness/server';
import { challengeOf, enrolTotp, totpCode } from '../harness/totp';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('TOTP enrolment', () => {
  it('begins with a base32 secret and its otpauth URI, and turns on only once a code from the app confirms it', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { secret, otpauthUri } = await user.api.mfa.totp.begin.mutate();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/); // 20 random bytes, RFC 4648 base32
    expect(otpauthUri).toBe(
      `otpauth://totp/IAM:${encodeURIComponent(user.email)}?secret=${secret}&issuer=IAM&algorithm=SHA1&digits=6&period=30`,
    );
    // Pending: nothing changes for the account yet.
    expect((await user.api.auth.me.query()).mfa.totp).toBe(false);
    expect(await user.api.mfa.totp.confirm.mutate({ code: totpCode(secret, t.clock.now(), 5) }).catch(iamCodeOf)).toBe('CODE_INVALID');

    const { backupCodes } = await user.api.mfa.totp.confirm.mutate({ code: totpCode(secret, t.clock.now()) });
    expect(backupCodes).toHaveLength(10);
    expect(new Set(backupCodes).size).toBe(10);
    for (const code of backupCodes) expect(code).toMatch(/^[a-z2-7]{5}-[a-z2-7]{5}$/);
    expect((await user.api.auth.me.query()).mfa).toEqual({ totp: true, passkeys: 0 });

    // At rest: the secret sealed, the backup codes hashed.
    const [credentials] = await t.sql.query<RowDataPacket[]>('SELECT secret_sealed, confirmed_at FROM totp_credentials WHERE user_id = ?', [
      user.userId,
    ]);
    expect(credentials).toHaveLength(1);
    expect(credentials[0]?.secret_sealed).not.toContain(secret);
    expect(credentials[0]?.confirmed_at).not.toBeNull();
    const [stored] = await t.sql.query<RowDataPacket[]>('SELECT code_hash FROM backup_codes WHERE user_id = ?', [user.userId]);
    expect(stored).toHaveLength(10);
    const hashes = stored.map((row) => String(row.code_hash));
    for (const code of backupCodes) {
      expect(hashes.some((hash) => hash.includes(code.replace('-', '')))).toBe(false);
      expect(hashes).not.toContain(code);
    }
    const [audits] = await t.sql.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ? AND type = 'mfa.totp_enabled'",
      [user.userId],
    );
    expect(Number(audits[0]?.n)).toBe(1);
  });

  it('a new begin replaces a pending secret; an enrolled authenticator cannot be replaced by begin', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const first = await user.api.mfa.totp.begin.mutate();
    const second = await user.api.mfa.totp.begin.mutate();
    expect(second.secret).not.toBe(first.secret);
    expect(await user.api.mfa.totp.confirm.mutate({ code: totpCode(first.secret, t.clock.now()) }).catch(iamCodeOf)).toBe('CODE_INVALID');
    await user.api.mfa.totp.confirm.mutate({ code: totpCode(second.secret, t.clock.now()) });
    expect(await user.api.mfa.totp.begin.mutate().catch(iamCodeOf)).toBe('TOTP_ALREADY_ENABLED');
    t.clock.advance(30);
    expect(await user.api.mfa.totp.confirm.mutate({ code: totpCode(second.secret, t.clock.now()) }).catch(iamCodeOf)).toBe(
      'TOTP_ALREADY_ENABLED',
    );
  });

  it('needs a signed-in caller', async () => {
    await using t = await createTestServer();
    const { api } = t.client();
    expect(await api.mfa.totp.begin.mutate().catch(iamCodeOf)).toBe('UNAUTHENTICATED');
    expect(await api.mfa.totp.confirm.mutate({ code: '123456' }).catch(iamCodeOf)).toBe('UNAUTHENTICATED');
  });
});

describe('sign-in with TOTP enrolled', () => {
  it('asks for the authenticator once the password is right, takes a fresh code once, and refuses it replayed', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { secret } = await enrolTotp(user.api, t.clock.now());
    const confirmedWith = totpCode(secret, t.clock.now());
    // Turning the authenticator on is announced to the owner, with a link to end the session that did it.
    const notice = await t.mail.waitFor((message) => message.to.includes(user.email) && message.tags.template === 'security_alert');
    expect(notice.subject).toMatch(/two-step sign-in changed/i);
    expect(notice.text).toContain('/not-me?token=');
    const mailsBefore = t.mail.messages.length;

    const device = t.client({ deviceOf: user.jar });
    const challenge = challengeOf(await device.api.auth.login.mutate({ email: user.email, password: user.password }));
    expect(challenge).toEqual({
      status: 'mfa_required',
      challengeId: expect.any(String),
      methods: ['totp', 'backup_code'],
      reasons: ['totp_enrolled'],
    });
    expect(device.jar.get('iam_rt')).toBeUndefined();
    // No email for a TOTP challenge, and nothing to resend.
    expect(await device.api.mfa.resend.mutate({ challengeId: challenge.challengeId }).catch(iamCodeOf)).toBe('CHALLENGE_INVALID');
    await pause(100);
    expect(t.mail.messages).toHaveLength(mailsBefore);

    // The code that confirmed the enrolment was used: it does not open a sign-in (RFC 6238 §5.2).
    expect(await device.api.mfa.verify.mutate({ challengeId: challenge.challengeId, code: confirmedWith }).catch(iamCodeOf)).toBe(
      'CODE_INVALID',
    );

    t.clock.advance(30);
    const code = totpCode(secret, t.clock.now());
    const signedIn = await device.api.mfa.verify.mutate({ challengeId: challenge.challengeId, code });
    expect(signedIn.status).toBe('authenticated');
    expect(signedIn.user).toMatchObject({ id: user.userId, mfa: { totp: true } });
    expect(device.jar.get('iam_rt')).toBeTruthy();
    await expect(device.api.auth.me.query()).resolves.toMatchObject({ email: user.email });

    // The same code on a new challenge, within its window: refused, across the whole service.
    const other = t.client();
    const again = challengeOf(await other.api.auth.login.mutate({ email: user.email, password: user.password }));
    expect(await other.api.mfa.verify.mutate({ challengeId: again.challengeId, code }).catch(iamCodeOf)).toBe('CODE_INVALID');
    // A code from the step before is refused too (only steps after the last one count) ...
    expect(
      await other.api.mfa.verify.mutate({ challengeId: again.challengeId, code: totpCode(secret, t.clock.now(), -1) }).catch(iamCodeOf),
    ).toBe('CODE_INVALID');
    // ... while the next one, within the ±1 step allowed for drift, works.
    const next = await other.api.mfa.verify.mutate({ challengeId: again.challengeId, code: totpCode(secret, t.clock.now(), 1) });
    expect(next.status).toBe('authenticated');
  });

  it('a backup code signs in once, in any case, with or without the dash', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const { backupCodes } = await enrolTotp(user.api, t.clock.now());
    const [first = '', second = ''] = backupCodes;
    const signIn = async (code: string) => {
      const device = t.client();
      const challenge = challengeOf(await device.api.auth.login.mutate({ email: user.email, password: user.password }));
      return device.api.mfa.verify.mutate({ challengeId: challenge.challengeId, code }).then((result) => result.status, iamCodeOf);
    };
    expect(await signIn(first.toUpperCase())).toBe('authenticated');
    expect(await signIn(first)).toBe('CODE_INVALID');
    expect(await signIn(first.replace('-', ''))).toBe('CODE_INVALID');
    expect(await signIn(second.replace('-', '').toUpperCase())).toBe('authenticated');
    const [rows] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM backup_codes WHERE user_id = ? AND used_at IS NOT NULL', [
      user.userId,
    ]);
    expect(Number(rows[0]?.n)).toBe(2);
    const [audits] = await t.sql.query<RowDataPacket[]>(
      "SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ? AND type = 'mfa.backup_code_used'",
      [user.userId],
    );
    expect(Number(audits[0]?.n)).toBe(2);
  });

  it('an account without TOTP keeps signing in with the password alone', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const result = await t.client({ deviceOf: user.jar }).api.auth.login.mutate({ email: user.email, password: user.password });
    expect(result.status).toBe('authenticated');
  });
});
