import { randomBytes } from 'node:crypto';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { bearer, errorOf, expectNoInternals, get, post, type RawResponse, resultOf, setCookies } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';

type AuthResult = { status: 'authenticated'; accessToken: string; user: { id: string } };

/** `session.refresh` as a browser tab would send it: the refresh cookie and the device canary. */
function refresh(t: TestServer, refreshToken: string, canary: string | null): Promise<RawResponse> {
  const cookie = canary === null ? `iam_rt=${refreshToken}` : `iam_rt=${refreshToken}; iam_cid=${canary}`;
  return post(t.trpcUrl, 'session.refresh', '{}', { cookie });
}

function refreshCookieOf(response: RawResponse): string | undefined {
  const cookie = setCookies(response.headers).get('iam_rt');
  return cookie && !cookie.cleared ? cookie.value : undefined;
}

async function sessionOf(t: TestServer, userId: string) {
  const [rows] = await t.sql.query<RowDataPacket[]>('SELECT id, revoked_at, revoked_reason FROM sessions WHERE user_id = ?', [userId]);
  expect(rows).toHaveLength(1);
  const [session] = rows;
  if (!session) throw new Error('no session');
  return session as { id: string; revoked_at: Date | null; revoked_reason: string | null };
}

async function refreshTokenCounts(t: TestServer, sessionId: string): Promise<{ total: number; live: number }> {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    'SELECT COUNT(*) AS total, SUM(used_at IS NULL) AS live FROM refresh_tokens WHERE session_id = ?',
    [sessionId],
  );
  return { total: Number(rows[0]?.total), live: Number(rows[0]?.live) };
}

async function reuseAudits(t: TestServer, userId: string): Promise<number> {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    "SELECT COUNT(*) AS n FROM audit_events WHERE user_id = ? AND type = 'session.refresh_reused'",
    [userId],
  );
  return Number(rows[0]?.n);
}

/** A device canary of the shape the service issues (256 bits, base64url). */
function otherCanary(): string {
  return randomBytes(32).toString('base64url');
}

describe('parallel and repeated refreshes', () => {
  it('twenty parallel refreshes of one token from one device all succeed with the same successor', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const presented = user.jar.get('iam_rt');
    const canary = user.jar.get('iam_cid');
    if (!presented || !canary) throw new Error('signUp left no cookies');

    const responses = await Promise.all(Array.from({ length: 20 }, () => refresh(t, presented, canary)));

    for (const response of responses) {
      expect(response.status, response.text.slice(0, 300)).toBe(200);
      expect(resultOf<AuthResult>(response).status).toBe('authenticated');
    }
    const successors = new Set(responses.map(refreshCookieOf));
    expect(successors.size).toBe(1);
    const [successor] = [...successors];
    expect(successor).toBeTruthy();
    expect(successor).not.toBe(presented);

    const session = await sessionOf(t, user.userId);
    expect(session.revoked_at).toBeNull();
    expect(await refreshTokenCounts(t, session.id)).toEqual({ total: 2, live: 1 });
    expect(await reuseAudits(t, user.userId)).toBe(0);

    // Every answer's access token works, and the shared successor rotates as usual.
    for (const response of responses.slice(0, 3)) {
      const me = await get(t.trpcUrl, 'auth.me', undefined, bearer(resultOf<AuthResult>(response).accessToken));
      expect(me.status).toBe(200);
    }
    const next = await refresh(t, successor ?? '', canary);
    expect(next.status).toBe(200);
    expect(refreshCookieOf(next)).not.toBe(successor);
    expect(await refreshTokenCounts(t, session.id)).toEqual({ total: 3, live: 1 });
  });

  it('tabs of one browser refreshing one token at once on fresh deployments never answer an error', async () => {
    // A nearly empty token table is where the presented row and its successor's insert meet in
    // one index gap: the deadlock the rotation is retried on. Each round is a new deployment.
    for (let round = 0; round < 6; round++) {
      await using t = await createTestServer();
      const user = await t.signUp();
      const presented = user.jar.get('iam_rt');
      const canary = user.jar.get('iam_cid');
      if (!presented || !canary) throw new Error('signUp left no cookies');
      const responses = await Promise.all(Array.from({ length: 8 }, () => refresh(t, presented, canary)));
      const statuses = responses.map((response) => (response.status === 200 ? 200 : `${response.status} ${errorOf(response).iamCode}`));
      expect(statuses, `round ${round}`).toEqual(Array(8).fill(200));
      expect(new Set(responses.map(refreshCookieOf)).size).toBe(1);
      expect((await sessionOf(t, user.userId)).revoked_at).toBeNull();
    }
  });

  it('a retry of the same token from the same device inside the grace window gets the same successor', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const presented = user.jar.get('iam_rt') ?? '';
    const canary = user.jar.get('iam_cid') ?? null;

    const first = await refresh(t, presented, canary);
    expect(first.status).toBe(200);
    t.clock.advance(20);
    const retry = await refresh(t, presented, canary);
    expect(retry.status).toBe(200);
    expect(refreshCookieOf(retry)).toBe(refreshCookieOf(first));

    const session = await sessionOf(t, user.userId);
    expect(session.revoked_at).toBeNull();
    expect(await refreshTokenCounts(t, session.id)).toEqual({ total: 2, live: 1 });
  });

  it.each([
    { label: 'a different canary', canaryOfThief: otherCanary },
    { label: 'no canary at all', canaryOfThief: () => null },
  ])(
    'the same token presented from another device ($label) inside the grace window is theft: the session is revoked',
    async ({ canaryOfThief }) => {
      await using t = await createTestServer();
      const user = await t.signUp();
      const presented = user.jar.get('iam_rt') ?? '';
      const canary = user.jar.get('iam_cid') ?? null;

      const legitimate = await refresh(t, presented, canary);
      expect(legitimate.status).toBe(200);
      const successor = refreshCookieOf(legitimate) ?? '';
      const legitimateAccessToken = resultOf<AuthResult>(legitimate).accessToken;

      t.clock.advance(5);
      const thief = await refresh(t, presented, canaryOfThief());
      expect(thief.status).toBe(401);
      expect(errorOf(thief).iamCode).toBe('REFRESH_TOKEN_REUSED');
      expect(setCookies(thief.headers).get('iam_rt')?.cleared).toBe(true);
      expectNoInternals(thief);

      const session = await sessionOf(t, user.userId);
      expect(session.revoked_at).not.toBeNull();
      expect(session.revoked_reason).toBe('refresh_reuse');
      expect(await reuseAudits(t, user.userId)).toBe(1);

      // The whole family dies: the legitimate successor and access token too.
      const afterTheft = await refresh(t, successor, canary);
      expect(afterTheft.status).toBe(401);
      expect(errorOf(afterTheft).iamCode).toBe('REFRESH_TOKEN_INVALID');
      const me = await get(t.trpcUrl, 'auth.me', undefined, bearer(legitimateAccessToken));
      expect(me.status).toBe(401);
      expect(errorOf(me).iamCode).toBe('SESSION_REVOKED');
    },
  );

  it('a burst of the same token from two devices at once ends with the session revoked, whoever wins the race', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const presented = user.jar.get('iam_rt') ?? '';
    const canary = user.jar.get('iam_cid') ?? null;
    const thief = otherCanary();

    const responses = await Promise.all(Array.from({ length: 20 }, (_, index) => refresh(t, presented, index % 2 === 0 ? canary : thief)));
    // A 200 is tokens or a challenge (when the thief's request happens to be the first served).
    const codes = responses.map((response) =>
      response.status === 200 ? resultOf<{ status: string }>(response).status : errorOf(response).iamCode,
    );
    for (const [index, response] of responses.entries()) {
      expectNoInternals(response);
      expect([200, 401]).toContain(response.status);
      // The thief (another canary) never walks away with tokens: at most a challenge, which holds none.
      if (index % 2 === 1) expect(codes[index]).not.toBe('authenticated');
    }
    // The owner's grace retries all get the one successor: never two live tokens.
    const successors = new Set(responses.filter((_, index) => codes[index] === 'authenticated').map(refreshCookieOf));
    expect(successors.size).toBeLessThanOrEqual(1);
    expect(codes).toContain('REFRESH_TOKEN_REUSED');
    const session = await sessionOf(t, user.userId);
    expect(session.revoked_at).not.toBeNull();
    expect(session.revoked_reason).toBe('refresh_reuse');
    expect(await reuseAudits(t, user.userId)).toBe(1);
    expect(await refreshTokenCounts(t, session.id)).toEqual({ total: 2, live: 1 });
  });

  it('a retry from the same device after the grace window is reuse: the session is revoked', async () => {
    await using t = await createTestServer();
    const user = await t.signUp();
    const presented = user.jar.get('iam_rt') ?? '';
    const canary = user.jar.get('iam_cid') ?? null;

    const first = await refresh(t, presented, canary);
    expect(first.status).toBe(200);
    const successor = refreshCookieOf(first) ?? '';

    t.clock.advance(31);
    const late = await refresh(t, presented, canary);
    expect(late.status).toBe(401);
    expect(errorOf(late).iamCode).toBe('REFRESH_TOKEN_REUSED');

    const session = await sessionOf(t, user.userId);
    expect(session.revoked_at).not.toBeNull();
    expect(session.revoked_reason).toBe('refresh_reuse');
    expect(await reuseAudits(t, user.userId)).toBe(1);
    const afterReuse = await refresh(t, successor, canary);
    expect(errorOf(afterReuse).iamCode).toBe('REFRESH_TOKEN_INVALID');
  });
});
