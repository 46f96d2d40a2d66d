import { createAccessTokenStore, createBffClient, createIamClient, type IamClient, iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { hmacKeys, mainKey } from '../bff/signed';
import { authenticated, createTestServer, linkTokenFrom, type TestServer, uniqueEmail } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';

type Claims = { sub: string; sid: string; org?: string; org_role?: string; roles: string[] };

function claimsOf(token: string): Claims {
  return JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as Claims;
}

function bffOf(t: TestServer) {
  return createBffClient({ url: t.trpcUrl, keyId: mainKey.id, secret: mainKey.secret, now: () => t.clock.now().getTime() });
}

async function rows(t: TestServer, query: string, params: unknown[] = []): Promise<RowDataPacket[]> {
  const [result] = await t.sql.query<RowDataPacket[]>(query, params);
  return result;
}

/** Invites `email` and answers the token of the mailed link. */
async function invite(t: TestServer, by: { api: IamClient }, organizationId: string, email: string, role: 'admin' | 'member' = 'member') {
  const before = t.mail.messages.length;
  const invitation = await by.api.org.invite.mutate({ organizationId, email, role });
  let seen = 0;
  const mail = await t.mail.waitFor(
    (message) => seen++ >= before && message.to.includes(email) && message.tags.template === 'org_invitation',
  );
  return { ...invitation, token: linkTokenFrom(mail), mail };
}

describe('organizations', () => {
  it('live through create → invite → accept → roles → switch → claims → refresh → remove → leave → transfer', async () => {
    await using t = await createTestServer({ hmacKeys });
    const owner = await t.signUp({ name: 'Olive Owner' });
    const created = await owner.api.org.create.mutate({ name: '  Acme Research  ' });
    expect(created.organization).toMatchObject({ name: 'Acme Research', slug: 'acme-research' });
    const organizationId = created.organization.id;
    expect(organizationId).toMatch(/^org_/);
    expect(await rows(t, 'SELECT user_id, role FROM organization_members WHERE organization_id = ?', [organizationId])).toEqual([
      { user_id: owner.userId, role: 'owner' },
    ]);

    // An invitation is mailed with a link to the accept page; the invitee signs up with that address and accepts.
    const memberEmail = uniqueEmail('member');
    const sent = await invite(t, owner, organizationId, memberEmail);
    expect(sent.invitationId).toMatch(/^inv_/);
    expect(sent.mail.text).toContain(`${t.url}/accept-invitation?token=`);
    // The mailed link leads to the console's page, which signs in and accepts; a made-up link is refused.
    const opened = await fetch(`${t.url}/accept-invitation?token=${sent.token}`, { redirect: 'manual' });
    expect(opened.status).toBe(303);
    expect(opened.headers.get('location')).toBe(`/console/accept-invitation?token=${sent.token}`);
    expect((await fetch(`${t.url}/accept-invitation?token=<script>`, { redirect: 'manual' })).status).toBe(400);
    expect(sent.mail.text).toContain('Acme Research');
    expect(sent.mail.text).toContain('Olive Owner');
    expect((await owner.api.org.invitations.list.query({ organizationId })).invitations).toMatchObject([
      { id: sent.invitationId, email: memberEmail, role: 'member', invitedBy: owner.userId },
    ]);
    const member = await t.signUp({ email: memberEmail });
    expect(await member.api.org.acceptInvitation.mutate({ token: sent.token })).toMatchObject({
      organization: { id: organizationId },
      role: 'member',
    });
    expect((await owner.api.org.invitations.list.query({ organizationId })).invitations).toEqual([]);
    // The link was single use.
    expect(await member.api.org.acceptInvitation.mutate({ token: sent.token }).catch(iamCodeOf)).toBe('LINK_INVALID');
    expect((await member.api.org.list.query()).organizations).toMatchObject([{ organization: { id: organizationId }, role: 'member' }]);
    const got = await member.api.org.get.query({ organizationId });
    expect(got.role).toBe('member');
    expect(got.members.map((m) => [m.userId, m.role, m.email])).toEqual([
      [owner.userId, 'owner', owner.email],
      [member.userId, 'member', memberEmail],
    ]);

    // Roles: the owner makes the member an admin and back.
    await owner.api.org.setRole.mutate({ organizationId, userId: member.userId, role: 'admin' });
    expect(await memberRole(t, organizationId, member.userId)).toBe('admin');
    await owner.api.org.setRole.mutate({ organizationId, userId: member.userId, role: 'member' });

    // Switch: the new token carries the organization; a refresh keeps it.
    const switched = await member.api.org.switch.mutate({ organizationId });
    expect(switched.organization).toEqual({ id: organizationId, role: 'member' });
    expect(claimsOf(switched.accessToken)).toMatchObject({ sub: member.userId, org: organizationId, org_role: 'member' });
    expect(await rows(t, 'SELECT active_organization_id AS a FROM sessions WHERE id = ?', [claimsOf(switched.accessToken).sid])).toEqual([
      { a: organizationId },
    ]);
    const refreshed = authenticated(await member.api.session.refresh.mutate());
    expect(claimsOf(refreshed.accessToken)).toMatchObject({ org: organizationId, org_role: 'member' });
    // The typed client keeps the token org.switch answers: its next calls carry the new claims.
    const store = createAccessTokenStore();
    store.set(refreshed.accessToken);
    const typed = createIamClient({ url: t.trpcUrl, accessToken: store, cookieJar: member.jar });
    const away = await typed.org.switch.mutate({ organizationId: null });
    expect(store.get()).toBe(away.accessToken);
    expect(claimsOf(store.get() ?? '').org).toBeUndefined();
    const back = await typed.org.switch.mutate({ organizationId });
    expect(claimsOf(store.get() ?? '')).toMatchObject({ org: organizationId, org_role: 'member' });
    expect(store.get()).toBe(back.accessToken);

    // bff.authorize: the organization of the token, a member now.
    const bff = bffOf(t);
    const ask = (organization: { id: string; roles?: Array<'owner' | 'admin' | 'member'> }, token = refreshed.accessToken) =>
      bff.bff.authorize.mutate({ accessToken: token, roles: [], organization });
    expect(await ask({ id: organizationId })).toMatchObject({ allowed: true, sub: member.userId });
    expect(await ask({ id: organizationId, roles: ['owner', 'admin'] })).toEqual({ allowed: false, reason: 'missing_organization_role' });
    expect(await ask({ id: 'org_aaaaaaaaaaaaaaaaaaaaaaaaaa' })).toEqual({ allowed: false, reason: 'wrong_organization' });
    expect(await ask({ id: organizationId }, member.accessToken)).toEqual({ allowed: false, reason: 'wrong_organization' });
    // Without an organization, as before.
    expect(await bff.bff.authorize.mutate({ accessToken: refreshed.accessToken, roles: ['user'] })).toMatchObject({ allowed: true });
    expect(await bff.bff.authorize.mutate({ accessToken: refreshed.accessToken, roles: [] }).catch(iamCodeOf)).toBe('INVALID_INPUT');

    // Removal: refused at once by bff.authorize; the session loses the organization; the next refresh carries none.
    await owner.api.org.removeMember.mutate({ organizationId, userId: member.userId });
    expect(await ask({ id: organizationId })).toEqual({ allowed: false, reason: 'missing_organization_role' });
    expect(await rows(t, 'SELECT active_organization_id AS a FROM sessions WHERE user_id = ?', [member.userId])).toEqual([{ a: null }]);
    const afterRemoval = authenticated(await member.api.session.refresh.mutate());
    expect(claimsOf(afterRemoval.accessToken).org).toBeUndefined();
    expect(await member.api.org.get.query({ organizationId }).catch(iamCodeOf)).toBe('NOT_FOUND');
    // The removal is the owner's row, naming the member; the member's own activity does not show the owner's address.
    const removal = (await owner.api.org.audit.query({ organizationId })).items.find((item) => item.type === 'org.member_removed');
    expect(removal).toMatchObject({ userId: owner.userId, details: { memberId: member.userId, role: 'member' } });
    const activity = (await member.api.auth.activity.query()).items.map((item) => item.type);
    expect(activity).toContain('org.member_joined');
    expect(activity).not.toContain('org.member_removed');

    // A second member joins, leaves; a third takes the ownership with a step-up.
    const second = await t.signUp();
    await second.api.org.acceptInvitation.mutate({ token: (await invite(t, owner, organizationId, second.email)).token });
    await second.api.org.leave.mutate({ organizationId });
    expect(await memberRole(t, organizationId, second.userId)).toBeNull();
    expect(await owner.api.org.leave.mutate({ organizationId }).catch(iamCodeOf)).toBe('ORG_OWNER_MUST_TRANSFER');

    const heir = await t.signUp();
    await heir.api.org.acceptInvitation.mutate({ token: (await invite(t, owner, organizationId, heir.email, 'admin')).token });
    expect(await owner.api.org.transferOwnership.mutate({ organizationId, userId: heir.userId }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
    const stepUpToken = await stepUpByMail(t, owner, 'org_ownership');
    await owner.api.org.transferOwnership.mutate({ organizationId, userId: heir.userId, stepUpToken });
    expect(await memberRole(t, organizationId, heir.userId)).toBe('owner');
    expect(await memberRole(t, organizationId, owner.userId)).toBe('admin');
    await owner.api.org.leave.mutate({ organizationId });

    // The trail, with the organization on every row.
    const types = (await rows(t, 'SELECT type FROM audit_events WHERE organization_id = ? ORDER BY created_at, id', [organizationId])).map(
      (row) => row.type,
    );
    for (const type of [
      'org.created',
      'org.member_invited',
      'org.member_joined',
      'org.role_changed',
      'org.member_removed',
      'org.member_left',
      'org.ownership_transferred',
    ]) {
      expect(types).toContain(type);
    }
  }, 60_000);

  it('refuses with the right codes and changes nothing', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const { organization } = await owner.api.org.create.mutate({ name: 'Globex', slug: 'globex' });
    const organizationId = organization.id;
    expect(await owner.api.org.create.mutate({ name: 'Other', slug: 'globex' }).catch(iamCodeOf)).toBe('ORG_SLUG_TAKEN');
    // A derived slug that is taken gets a word of its own.
    expect((await owner.api.org.create.mutate({ name: 'Globex' })).organization.slug).toMatch(/^globex-[a-z2-7]{6}$/);
    expect(await owner.api.org.create.mutate({ name: 'x', slug: 'Not A Slug' }).catch(iamCodeOf)).toBe('INVALID_INPUT');
    expect(await owner.api.org.create.mutate({ name: '<b>x</b>' }).catch(iamCodeOf)).toBe('XSS_DETECTED');

    // A stranger learns nothing.
    const stranger = await t.signUp();
    for (const call of [
      () => stranger.api.org.get.query({ organizationId }),
      () => stranger.api.org.update.mutate({ organizationId, name: 'Mine' }),
      () => stranger.api.org.invite.mutate({ organizationId, email: uniqueEmail(), role: 'member' }),
      () => stranger.api.org.invitations.list.query({ organizationId }),
      () => stranger.api.org.switch.mutate({ organizationId }),
      () => stranger.api.org.audit.query({ organizationId }),
      () => stranger.api.org.leave.mutate({ organizationId }),
      () => owner.api.org.get.query({ organizationId: 'org_aaaaaaaaaaaaaaaaaaaaaaaaaa' }),
    ]) {
      expect(await call().catch(iamCodeOf)).toBe('NOT_FOUND');
    }

    const admin = await t.signUp();
    await admin.api.org.acceptInvitation.mutate({ token: (await invite(t, owner, organizationId, admin.email, 'admin')).token });
    const member = await t.signUp();
    await member.api.org.acceptInvitation.mutate({ token: (await invite(t, admin, organizationId, member.email)).token });

    // Roles.
    expect(await member.api.org.invite.mutate({ organizationId, email: uniqueEmail(), role: 'member' }).catch(iamCodeOf)).toBe(
      'ORG_FORBIDDEN',
    );
    expect(await admin.api.org.invite.mutate({ organizationId, email: uniqueEmail(), role: 'admin' }).catch(iamCodeOf)).toBe(
      'ORG_FORBIDDEN',
    );
    expect(await admin.api.org.invite.mutate({ organizationId, email: member.email, role: 'member' }).catch(iamCodeOf)).toBe(
      'ORG_ALREADY_MEMBER',
    );
    expect(await admin.api.org.setRole.mutate({ organizationId, userId: member.userId, role: 'admin' }).catch(iamCodeOf)).toBe(
      'ORG_FORBIDDEN',
    );
    expect(await owner.api.org.setRole.mutate({ organizationId, userId: owner.userId, role: 'admin' }).catch(iamCodeOf)).toBe(
      'ORG_FORBIDDEN',
    );
    expect(await admin.api.org.removeMember.mutate({ organizationId, userId: owner.userId }).catch(iamCodeOf)).toBe('ORG_FORBIDDEN');
    expect(await member.api.org.removeMember.mutate({ organizationId, userId: admin.userId }).catch(iamCodeOf)).toBe('ORG_FORBIDDEN');
    expect(await owner.api.org.removeMember.mutate({ organizationId, userId: owner.userId }).catch(iamCodeOf)).toBe('ORG_FORBIDDEN');
    expect(await admin.api.org.transferOwnership.mutate({ organizationId, userId: admin.userId }).catch(iamCodeOf)).toBe('ORG_FORBIDDEN');
    expect(await owner.api.org.transferOwnership.mutate({ organizationId, userId: stranger.userId }).catch(iamCodeOf)).toBe('NOT_FOUND');
    expect(await member.api.org.update.mutate({ organizationId, name: 'Mine' }).catch(iamCodeOf)).toBe('ORG_FORBIDDEN');
    expect(await member.api.org.audit.query({ organizationId }).catch(iamCodeOf)).toBe('ORG_FORBIDDEN');
    expect(await member.api.org.revokeSessions.mutate({ organizationId }).catch(iamCodeOf)).toBe('ORG_FORBIDDEN');
    expect(await admin.api.org.revokeSessions.mutate({ organizationId }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
    expect(await owner.api.org.leave.mutate({ organizationId }).catch(iamCodeOf)).toBe('ORG_OWNER_MUST_TRANSFER');
    // An admin updates; a slug taken is refused.
    await owner.api.org.create.mutate({ name: 'Initech', slug: 'initech' });
    expect(await admin.api.org.update.mutate({ organizationId, slug: 'initech' }).catch(iamCodeOf)).toBe('ORG_SLUG_TAKEN');
    expect((await admin.api.org.update.mutate({ organizationId, name: 'Globex Corp' })).organization).toMatchObject({
      name: 'Globex Corp',
      slug: 'globex',
    });
    expect(await memberRole(t, organizationId, member.userId)).toBe('member');
    expect(await memberRole(t, organizationId, owner.userId)).toBe('owner');
  }, 60_000);

  it('binds an invitation to its address, and refuses used, replaced, revoked and expired links', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const { organization } = await owner.api.org.create.mutate({ name: 'Hooli' });
    const organizationId = organization.id;

    // Another account cannot use it; the link stays usable for the invited address.
    const invitedEmail = uniqueEmail('invited');
    const sent = await invite(t, owner, organizationId, invitedEmail);
    const other = await t.signUp();
    expect(await other.api.org.acceptInvitation.mutate({ token: sent.token }).catch(iamCodeOf)).toBe('ORG_INVITATION_EMAIL_MISMATCH');
    expect(await memberRole(t, organizationId, other.userId)).toBeNull();
    const invited = await t.signUp({ email: invitedEmail });
    expect((await invited.api.org.acceptInvitation.mutate({ token: sent.token })).role).toBe('member');

    // A new invitation to an address replaces the live one: the first link is dead.
    const email = uniqueEmail('twice');
    const first = await invite(t, owner, organizationId, email);
    const replacement = await invite(t, owner, organizationId, email);
    expect((await owner.api.org.invitations.list.query({ organizationId })).invitations.map((i) => i.id)).toEqual([
      replacement.invitationId,
    ]);
    const twice = await t.signUp({ email });
    expect(await twice.api.org.acceptInvitation.mutate({ token: first.token }).catch(iamCodeOf)).toBe('LINK_INVALID');

    // Revoked.
    await owner.api.org.invitations.revoke.mutate({ organizationId, invitationId: replacement.invitationId });
    expect(await twice.api.org.acceptInvitation.mutate({ token: replacement.token }).catch(iamCodeOf)).toBe('LINK_INVALID');
    expect(await owner.api.org.invitations.revoke.mutate({ organizationId, invitationId: replacement.invitationId }).catch(iamCodeOf)).toBe(
      'NOT_FOUND',
    );

    // Expired after 7 days; unknown.
    const late = await invite(t, owner, organizationId, email);
    t.clock.advance(7 * 24 * 3600 + 1);
    const lateUser = (await t.signInOnNewDevice(twice)).api;
    expect(await lateUser.org.acceptInvitation.mutate({ token: late.token }).catch(iamCodeOf)).toBe('LINK_INVALID');
    expect(await lateUser.org.acceptInvitation.mutate({ token: 'A'.repeat(43) }).catch(iamCodeOf)).toBe('LINK_INVALID');
    expect(await memberRole(t, organizationId, twice.userId)).toBeNull();

    const types = (await rows(t, 'SELECT type FROM audit_events WHERE organization_id = ?', [organizationId])).map((row) => row.type);
    expect(types).toContain('org.invitation_revoked');
  }, 60_000);

  it('pages the organization audit newest first, by keyset', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const { organization } = await owner.api.org.create.mutate({ name: 'Pager' });
    const organizationId = organization.id;
    for (let i = 0; i < 4; i++) {
      t.clock.advance(1);
      await owner.api.org.update.mutate({ organizationId, name: `Pager ${i}` });
    }
    // Another organization's events are not listed.
    await owner.api.org.create.mutate({ name: 'Elsewhere' });
    const first = await owner.api.org.audit.query({ organizationId, limit: 3 });
    expect(first.items.map((item) => item.type)).toEqual(['org.updated', 'org.updated', 'org.updated']);
    expect(first.items[0]?.details).toMatchObject({ to: { name: 'Pager 3' } });
    expect(first.nextCursor).not.toBeNull();
    const second = await owner.api.org.audit.query({ organizationId, limit: 3, cursor: first.nextCursor ?? '' });
    expect(second.items.map((item) => item.type)).toEqual(['org.updated', 'org.created']);
    expect(second.nextCursor).toBeNull();
    expect(await owner.api.org.audit.query({ organizationId, cursor: '!!' }).catch(iamCodeOf)).toBe('INVALID_INPUT');
  });
});

async function memberRole(t: TestServer, organizationId: string, userId: string): Promise<string | null> {
  const found = await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [organizationId, userId]);
  return (found[0]?.role as string | undefined) ?? null;
}

describe('organizations under concurrency and limits', () => {
  it('spends an invitation once when it is accepted twice at once, and gives a slug to one of two creators', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const { organization } = await owner.api.org.create.mutate({ name: 'Race' });
    const invitee = await t.signUp();
    const { token } = await invite(t, owner, organization.id, invitee.email);
    const answers = await Promise.all([0, 1, 2].map(() => invitee.api.org.acceptInvitation.mutate({ token }).then(() => 'ok', iamCodeOf)));
    expect(answers.filter((answer) => answer === 'ok')).toHaveLength(1);
    for (const answer of answers.filter((a) => a !== 'ok')) expect(['LINK_INVALID', 'ORG_ALREADY_MEMBER']).toContain(answer);
    expect(
      await rows(t, 'SELECT role FROM organization_members WHERE organization_id = ? AND user_id = ?', [organization.id, invitee.userId]),
    ).toEqual([{ role: 'member' }]);

    const created = await Promise.all(
      [owner, invitee].map((user) => user.api.org.create.mutate({ name: 'Same', slug: 'same-slug' }).then(() => 'ok', iamCodeOf)),
    );
    expect(created.sort()).toEqual(['ORG_SLUG_TAKEN', 'ok']);
    expect(await rows(t, "SELECT COUNT(*) AS n FROM organizations WHERE slug = 'same-slug'")).toEqual([{ n: 1 }]);
  });

  it('counts invitations against orgInvitesPerUser', async () => {
    await using t = await createTestServer({ rateLimits: { orgInvitesPerUser: { points: 2 } } });
    const owner = await t.signUp();
    const { organization } = await owner.api.org.create.mutate({ name: 'Limited' });
    for (let i = 0; i < 2; i++)
      await owner.api.org.invite.mutate({ organizationId: organization.id, email: uniqueEmail(), role: 'member' });
    expect(
      await owner.api.org.invite.mutate({ organizationId: organization.id, email: uniqueEmail(), role: 'member' }).catch(iamCodeOf),
    ).toBe('RATE_LIMITED');
    expect(await rows(t, 'SELECT COUNT(*) AS n FROM organization_invitations')).toEqual([{ n: 2 }]);
  });

  it('ends an account with its organizations: an organization with no one else goes with it, an owner with members must transfer first', async () => {
    await using t = await createTestServer();
    const owner = await t.signUp();
    const member = await t.signUp();
    const shared = (await owner.api.org.create.mutate({ name: 'Shared' })).organization.id;
    const alone = (await owner.api.org.create.mutate({ name: 'Alone' })).organization.id;
    const sent = await invite(t, owner, shared, member.email);
    await member.api.org.acceptInvitation.mutate({ token: sent.token });
    const own = (await member.api.org.create.mutate({ name: 'Member Own' })).organization.id;

    // The owner of an organization with another member cannot leave it ownerless.
    const refused = await owner.api.auth.deleteAccount
      .mutate({ stepUpToken: await stepUpByMail(t, owner, 'account_delete') })
      .catch(iamCodeOf);
    expect(refused).toBe('ORG_OWNER_MUST_TRANSFER');
    expect(await rows(t, 'SELECT id FROM users WHERE id = ?', [owner.userId])).toHaveLength(1);
    expect(
      await rows(t, 'SELECT organization_id FROM organization_members WHERE user_id = ? ORDER BY organization_id', [owner.userId]),
    ).toHaveLength(2);

    // A member's account goes: its membership goes, and the organization it alone belonged to with it.
    expect((await member.api.auth.deleteAccount.mutate({ stepUpToken: await stepUpByMail(t, member, 'account_delete') })).status).toBe(
      'deleted',
    );
    expect(await rows(t, 'SELECT organization_id FROM organization_members WHERE user_id = ?', [member.userId])).toEqual([]);
    expect(await rows(t, 'SELECT id FROM organizations WHERE id = ?', [own])).toEqual([]);
    expect((await owner.api.org.get.query({ organizationId: shared })).members.map((row) => row.userId)).toEqual([owner.userId]);

    // Now the owner is alone in both: both go with the account.
    expect((await owner.api.auth.deleteAccount.mutate({ stepUpToken: await stepUpByMail(t, owner, 'account_delete') })).status).toBe(
      'deleted',
    );
    expect(await rows(t, 'SELECT id FROM organizations WHERE id IN (?, ?)', [shared, alone])).toEqual([]);
    expect(await rows(t, 'SELECT id FROM organization_invitations WHERE organization_id IN (?, ?)', [shared, alone])).toEqual([]);
  });
});
