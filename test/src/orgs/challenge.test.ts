import { describe, expect, it } from 'vitest';
import { authenticated, codeFrom, createTestServer } from '../harness/server';

type Claims = { sub: string; sid: string; org?: string; org_role?: string };

function claimsOf(token: string): Claims {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Claims;
}

const chromeOnLinux = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
/** A residential address in Great Britain and one in Brazil (GeoLite2 City data). */
const london = '81.2.69.142';
const portoAlegre = '2.16.0.1';

describe('the active organization through a refresh challenge', () => {
  it('passing the challenge on the session’s own device keeps acting in the organization; a removed member loses it', async () => {
    await using t = await createTestServer({ trustProxy: true });
    const owner = await t.signUp();
    const { organization } = await owner.api.org.create.mutate({ name: 'Travel Co' });
    const member = await t.signUp();
    await t.sql.query("INSERT INTO organization_members (organization_id, user_id, role, created_at) VALUES (?, ?, 'admin', NOW(3))", [
      organization.id,
      member.userId,
    ]);
    const home = t.client({ cookieJar: member.jar, headers: { 'x-forwarded-for': london, 'user-agent': chromeOnLinux } });
    authenticated(await home.api.auth.login.mutate({ email: member.email, password: member.password }));
    const switched = await home.api.org.switch.mutate({ organizationId: organization.id });
    expect(claimsOf(switched.accessToken)).toMatchObject({ org: organization.id, org_role: 'admin' });

    // The same device travels: its refresh is doubted, and the code passes on that device.
    const travelling = t.client({ cookieJar: member.jar, headers: { 'x-forwarded-for': portoAlegre, 'user-agent': chromeOnLinux } });
    const doubted = await travelling.api.session.refresh.mutate();
    expect(doubted.status).toBe('mfa_required');
    if (doubted.status !== 'mfa_required') return;
    const code = codeFrom(await t.mail.waitFor((message) => message.to.includes(member.email) && message.tags.template === 'login_code'));
    const passed = authenticated(await travelling.api.mfa.verify.mutate({ challengeId: doubted.challengeId, code }));
    expect(claimsOf(passed.accessToken)).toMatchObject({
      sub: member.userId,
      sid: claimsOf(switched.accessToken).sid,
      org: organization.id,
    });
    expect(claimsOf(passed.accessToken).org_role).toBe('admin');

    // Removed from the organization, the next challenge passed there no longer carries it.
    await owner.api.org.removeMember.mutate({ organizationId: organization.id, userId: member.userId });
    const elsewhere = t.client({ cookieJar: member.jar, headers: { 'x-forwarded-for': london, 'user-agent': chromeOnLinux } });
    const again = await elsewhere.api.session.refresh.mutate();
    const token =
      again.status === 'mfa_required'
        ? authenticated(
            await elsewhere.api.mfa.verify.mutate({
              challengeId: again.challengeId,
              code: codeFrom(
                await t.mail.waitFor(
                  (message) => message.to.includes(member.email) && message.tags.template === 'login_code' && !message.text?.includes(code),
                ),
              ),
            }),
          ).accessToken
        : authenticated(again).accessToken;
    expect(claimsOf(token).org).toBeUndefined();
  });
});
