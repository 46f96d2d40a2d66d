import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { meCodeUntil, startInstance } from '../harness/instance';
import { createTestServer, linkTokenFrom } from '../harness/server';
import { stepUpByMail } from '../harness/stepUp';

describe('org.revokeSessions', () => {
  it("ends every member's sessions but the caller's current one, and a second instance refuses their tokens within a second", async () => {
    await using t = await createTestServer();
    await using second = await startInstance(t);
    const owner = await t.signUp();
    const ownerElsewhere = await t.signInOnNewDevice(owner);
    const { organization } = await owner.api.org.create.mutate({ name: 'Umbrella' });
    const organizationId = organization.id;
    const members = [];
    for (let i = 0; i < 2; i++) {
      const member = await t.signUp();
      const before = t.mail.messages.length;
      await owner.api.org.invite.mutate({ organizationId, email: member.email, role: 'member' });
      let seen = 0;
      const mail = await t.mail.waitFor((m) => seen++ >= before && m.to.includes(member.email) && m.tags.template === 'org_invitation');
      await member.api.org.acceptInvitation.mutate({ token: linkTokenFrom(mail) });
      members.push(member);
    }
    const outsider = await t.signUp();
    for (const member of members) expect(await meCodeUntil(second.clientWith(member.accessToken), 'ok')).toBe('ok');

    const stepUpToken = await stepUpByMail(t, owner, 'org_sessions');
    const { count } = await owner.api.org.revokeSessions.mutate({ organizationId, stepUpToken });
    // Both members' sessions and the owner's other one.
    expect(count).toBe(3);

    const [live] = await t.sql.query<RowDataPacket[]>(
      'SELECT user_id, COUNT(*) AS n FROM sessions WHERE revoked_at IS NULL AND user_id IN (?) GROUP BY user_id',
      [[owner.userId, outsider.userId, ...members.map((m) => m.userId)]],
    );
    expect(Object.fromEntries(live.map((row) => [row.user_id, Number(row.n)]))).toEqual({ [owner.userId]: 1, [outsider.userId]: 1 });
    // Each ended session is in its owner's history, once.
    const [revokedAudits] = await t.sql.query<RowDataPacket[]>(
      "SELECT user_id, COUNT(DISTINCT session_id) AS sessions, COUNT(*) AS n FROM audit_events WHERE type = 'session.revoked' AND user_id IN (?) GROUP BY user_id",
      [members.map((m) => m.userId)],
    );
    expect(revokedAudits.map((row) => [Number(row.sessions), Number(row.n)])).toEqual([
      [1, 1],
      [1, 1],
    ]);
    for (const member of members) {
      expect(await member.api.auth.me.query().catch(iamCodeOf)).toBe('SESSION_REVOKED');
      expect(await meCodeUntil(second.clientWith(member.accessToken), 'SESSION_REVOKED')).toBe('SESSION_REVOKED');
    }
    expect(await meCodeUntil(second.clientWith(ownerElsewhere.accessToken), 'SESSION_REVOKED')).toBe('SESSION_REVOKED');
    expect(await owner.api.auth.me.query()).toMatchObject({ id: owner.userId });
    expect(await outsider.api.auth.me.query()).toMatchObject({ id: outsider.userId });

    const [audit] = await t.sql.query<RowDataPacket[]>(
      "SELECT user_id, data FROM audit_events WHERE organization_id = ? AND type = 'org.sessions_revoked'",
      [organizationId],
    );
    expect(audit).toHaveLength(1);
    // The step-up is spent: a second call asks again.
    expect(await owner.api.org.revokeSessions.mutate({ organizationId, stepUpToken }).catch(iamCodeOf)).toBe('STEP_UP_REQUIRED');
  }, 60_000);
});
