import fc from 'fast-check';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { hmacKeys, mainKey, sign } from '../bff/signed';
import { send } from '../harness/http';
import { createTestServer, type TestServer } from '../harness/server';

/** Every procedure, as a client would reach it (`signed`: as a service does, with an HMAC signature). */
const procedures: Array<{ path: string; type: 'query' | 'mutation'; shape: Record<string, fc.Arbitrary<unknown>>; signed?: true }> = [
  { path: 'auth.signup', type: 'mutation', shape: { email: text(), password: text(), name: text(), botCheck: botCheck() } },
  { path: 'auth.verifyEmail', type: 'mutation', shape: { challengeId: text(), code: text(), token: text() } },
  { path: 'auth.login', type: 'mutation', shape: { email: text(), password: text(), botCheck: botCheck() } },
  { path: 'auth.logout', type: 'mutation', shape: {} },
  { path: 'auth.me', type: 'query', shape: {} },
  { path: 'auth.requestPasswordReset', type: 'mutation', shape: { email: text(), botCheck: botCheck() } },
  { path: 'auth.resetPassword', type: 'mutation', shape: { token: text(), password: text() } },
  { path: 'auth.changePassword', type: 'mutation', shape: { currentPassword: text(), newPassword: text() } },
  { path: 'auth.requestEmailChange', type: 'mutation', shape: { newEmail: text(), stepUpToken: text() } },
  { path: 'auth.confirmEmailChange', type: 'mutation', shape: { token: text() } },
  { path: 'auth.requestSignIn', type: 'mutation', shape: { email: text(), botCheck: botCheck() } },
  { path: 'auth.signInWithCode', type: 'mutation', shape: { challengeId: text(), code: text() } },
  { path: 'auth.signInWithLink', type: 'mutation', shape: { token: text() } },
  { path: 'auth.setPassword', type: 'mutation', shape: { newPassword: text(), stepUpToken: text() } },
  { path: 'auth.updateProfile', type: 'mutation', shape: { name: text() } },
  { path: 'auth.exportData', type: 'query', shape: {} },
  { path: 'auth.deleteAccount', type: 'mutation', shape: { stepUpToken: text() } },
  { path: 'passkey.registrationOptions', type: 'mutation', shape: { stepUpToken: text() } },
  { path: 'passkey.register', type: 'mutation', shape: { response: webauthnResponse(), name: text() } },
  { path: 'passkey.authenticationOptions', type: 'mutation', shape: { challengeId: text() } },
  { path: 'passkey.signIn', type: 'mutation', shape: { ceremonyId: text(), response: webauthnResponse() } },
  { path: 'passkey.list', type: 'query', shape: {} },
  { path: 'passkey.rename', type: 'mutation', shape: { id: text(), name: text() } },
  { path: 'passkey.remove', type: 'mutation', shape: { id: text(), stepUpToken: text() } },
  {
    path: 'apiKeys.create',
    type: 'mutation',
    shape: { name: text(), scopes: fc.oneof(fc.array(text(), { maxLength: 22 }), text()), expiresInDays: fc.anything() },
  },
  { path: 'apiKeys.list', type: 'query', shape: {} },
  { path: 'apiKeys.revoke', type: 'mutation', shape: { id: text() } },
  { path: 'org.create', type: 'mutation', shape: { name: text(), slug: orgSlug() } },
  { path: 'org.list', type: 'query', shape: {} },
  { path: 'org.get', type: 'query', shape: { organizationId: orgId() } },
  { path: 'org.update', type: 'mutation', shape: { organizationId: orgId(), name: text(), slug: orgSlug() } },
  { path: 'org.invite', type: 'mutation', shape: { organizationId: orgId(), email: text(), role: orgRole() } },
  { path: 'org.invitations.list', type: 'query', shape: { organizationId: orgId() } },
  { path: 'org.invitations.revoke', type: 'mutation', shape: { organizationId: orgId(), invitationId: text() } },
  { path: 'org.acceptInvitation', type: 'mutation', shape: { token: text() } },
  { path: 'org.setRole', type: 'mutation', shape: { organizationId: orgId(), userId: text(), role: orgRole() } },
  { path: 'org.removeMember', type: 'mutation', shape: { organizationId: orgId(), userId: text() } },
  { path: 'org.leave', type: 'mutation', shape: { organizationId: orgId() } },
  { path: 'org.transferOwnership', type: 'mutation', shape: { organizationId: orgId(), userId: text(), stepUpToken: text() } },
  { path: 'org.switch', type: 'mutation', shape: { organizationId: orgId() } },
  { path: 'org.revokeSessions', type: 'mutation', shape: { organizationId: orgId(), stepUpToken: text() } },
  { path: 'org.audit', type: 'query', shape: { organizationId: orgId(), cursor: text(), limit: fc.anything() } },
  {
    path: 'sso.connections.create',
    type: 'mutation',
    shape: {
      organizationId: orgId(),
      type: fc.oneof(fc.constant('oidc'), text()),
      issuer: text(),
      clientId: text(),
      clientSecret: text(),
      scopes: fc.anything(),
      stepUpToken: text(),
    },
  },
  { path: 'sso.connections.list', type: 'query', shape: { organizationId: orgId() } },
  {
    path: 'sso.connections.update',
    type: 'mutation',
    shape: {
      organizationId: orgId(),
      connectionId: text(),
      issuer: text(),
      clientId: text(),
      clientSecret: fc.oneof(fc.constant(null), text()),
      scopes: fc.anything(),
      stepUpToken: text(),
    },
  },
  { path: 'sso.connections.delete', type: 'mutation', shape: { organizationId: orgId(), connectionId: text(), stepUpToken: text() } },
  { path: 'sso.domains.add', type: 'mutation', shape: { organizationId: orgId(), domain: text() } },
  { path: 'sso.domains.verify', type: 'mutation', shape: { organizationId: orgId(), domain: text() } },
  { path: 'sso.domains.list', type: 'query', shape: { organizationId: orgId() } },
  { path: 'sso.domains.remove', type: 'mutation', shape: { organizationId: orgId(), domain: text() } },
  { path: 'sso.discover', type: 'mutation', shape: { email: text() } },
  { path: 'sso.authorize', type: 'mutation', shape: { email: text(), organizationId: orgId(), returnTo: text() } },
  { path: 'sso.scim.createToken', type: 'mutation', shape: { organizationId: orgId(), name: text(), stepUpToken: text() } },
  { path: 'sso.scim.listTokens', type: 'query', shape: { organizationId: orgId() } },
  { path: 'sso.scim.revokeToken', type: 'mutation', shape: { organizationId: orgId(), tokenId: text(), stepUpToken: text() } },
  {
    path: 'sso.scim.mapGroup',
    type: 'mutation',
    shape: { organizationId: orgId(), displayName: text(), role: text(), stepUpToken: text() },
  },
  { path: 'sso.scim.groupRoles', type: 'query', shape: { organizationId: orgId() } },
  {
    path: 'bff.verifyApiKey',
    type: 'mutation',
    shape: { key: fc.oneof(text(), fc.constant(`iam_${'A'.repeat(43)}`)), scopes: fc.oneof(fc.array(text(), { maxLength: 22 }), text()) },
    signed: true,
  },
  {
    path: 'bff.login',
    type: 'mutation',
    shape: { email: text(), password: text(), client: forwardedClient(), botCheck: botCheck() },
    signed: true,
  },
  {
    path: 'bff.signup',
    type: 'mutation',
    shape: { email: text(), password: text(), name: text(), client: forwardedClient(), botCheck: botCheck() },
    signed: true,
  },
  {
    path: 'bff.verifyEmail',
    type: 'mutation',
    shape: { challengeId: text(), code: text(), token: text(), password: text(), client: forwardedClient() },
    signed: true,
  },
  {
    path: 'bff.verifyChallenge',
    type: 'mutation',
    shape: { challengeId: text(), code: text(), token: text(), client: forwardedClient() },
    signed: true,
  },
  { path: 'admin.users.list', type: 'query', shape: { query: text(), status: text(), cursor: text(), limit: fc.anything() } },
  { path: 'admin.users.get', type: 'query', shape: { userId: text() } },
  { path: 'admin.users.disable', type: 'mutation', shape: { userId: text(), reason: text(), stepUpToken: text() } },
  { path: 'admin.users.enable', type: 'mutation', shape: { userId: text(), stepUpToken: text() } },
  { path: 'admin.users.revokeSessions', type: 'mutation', shape: { userId: text() } },
  { path: 'admin.users.resetMfa', type: 'mutation', shape: { userId: text(), stepUpToken: text() } },
  { path: 'admin.users.setRoles', type: 'mutation', shape: { userId: text(), roles: fc.anything(), stepUpToken: text() } },
  { path: 'admin.users.delete', type: 'mutation', shape: { userId: text(), stepUpToken: text() } },
  {
    path: 'admin.audit.query',
    type: 'query',
    shape: {
      userId: text(),
      types: fc.anything(),
      ip: text(),
      from: fc.anything(),
      to: fc.anything(),
      cursor: text(),
      limit: fc.anything(),
    },
  },
  { path: 'session.refresh', type: 'mutation', shape: {} },
  { path: 'session.list', type: 'query', shape: {} },
  { path: 'session.revoke', type: 'mutation', shape: { sessionId: text() } },
  { path: 'session.revokeAll', type: 'mutation', shape: { includeCurrent: fc.anything() } },
  {
    path: 'mfa.verify',
    type: 'mutation',
    shape: { challengeId: text(), code: text(), passkey: fc.record({ ceremonyId: text(), response: webauthnResponse() }) },
  },
  { path: 'mfa.resend', type: 'mutation', shape: { challengeId: text() } },
  { path: 'mfa.consumeLink', type: 'mutation', shape: { token: text() } },
  { path: 'mfa.totp.begin', type: 'mutation', shape: {} },
  { path: 'mfa.totp.confirm', type: 'mutation', shape: { code: text() } },
  { path: 'mfa.totp.disable', type: 'mutation', shape: { code: text(), stepUpToken: text() } },
  { path: 'mfa.stepUp.begin', type: 'mutation', shape: { action: text() } },
  { path: 'mfa.stepUp.verify', type: 'mutation', shape: { challengeId: text(), code: text() } },
];

function text(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'grapheme', maxLength: 40 }),
    fc.emailAddress(),
    fc.constantFrom('', ' ', 'a@b', 'x@example.com', "' OR 1=1 --", '<script>alert(1)</script>', 'chl_aaaaaaaaaaaaaaaaaaaa', '123456'),
    fc.string({ minLength: 300, maxLength: 2_000 }),
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(fc.string(), { maxLength: 3 }),
    fc.dictionary(fc.string({ maxLength: 8 }), fc.string({ maxLength: 8 }), { maxKeys: 3 }),
    fc.constant({ password: 1 }),
  );
}

/** An organization id: a well-formed one (of no organization) now and then, or anything. */
function orgId(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.constant('org_aaaaaaaaaaaaaaaaaaaaaaaaaa'), fc.stringMatching(/^org_[a-z0-9]{10,40}$/), text());
}

function orgSlug(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.stringMatching(/^[a-z0-9]{1,10}(-[a-z0-9]{1,10}){0,3}$/), text());
}

function orgRole(): fc.Arbitrary<unknown> {
  return fc.oneof(fc.constantFrom('owner', 'admin', 'member'), text());
}

/** A WebAuthn response as a script might forge it: the right shape with wild fields, or anything. */
function webauthnResponse(): fc.Arbitrary<unknown> {
  const b64 = fc.oneof(
    fc.base64String({ maxLength: 200 }).map((value) => value.replace(/=+$/, '')),
    text(),
  );
  return fc.oneof(
    fc.record(
      {
        id: b64,
        rawId: b64,
        type: fc.oneof(fc.constant('public-key'), text()),
        response: fc.record(
          { clientDataJSON: b64, attestationObject: b64, authenticatorData: b64, signature: b64, userHandle: b64 },
          { requiredKeys: [] },
        ),
        clientExtensionResults: fc.oneof(fc.constant({}), text()),
      },
      { requiredKeys: [] },
    ),
    text(),
  );
}

/** The browser a BFF forwards: the right shape with wild fields (a real address now and then), or anything. */
function forwardedClient(): fc.Arbitrary<unknown> {
  return fc.oneof(
    fc.record(
      {
        ip: fc.oneof(fc.constantFrom('203.0.113.7', '2001:db8::1', '::ffff:198.51.100.2'), text()),
        userAgent: text(),
        canaryId: fc.oneof(fc.constant('A'.repeat(43)), text()),
      },
      { requiredKeys: [] },
    ),
    text(),
  );
}

/** A bot-check solution as a script might forge it: base64 of near-payloads, or anything. */
function botCheck(): fc.Arbitrary<unknown> {
  const payload = fc.record(
    {
      algorithm: fc.oneof(fc.constant('SHA-256'), text()),
      challenge: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), text()),
      number: fc.oneof(fc.nat(), fc.integer(), fc.double(), text()),
      salt: fc.oneof(fc.constant('abc?expires=9999999999'), text()),
      signature: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), text()),
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    payload.map((value) => Buffer.from(JSON.stringify(value)).toString('base64')),
    text(),
  );
}

/** A shaped input with any subset of the expected keys, extra keys and wild values, or anything at all. */
function inputFor(shape: Record<string, fc.Arbitrary<unknown>>): fc.Arbitrary<unknown> {
  const keys = Object.keys(shape);
  const shaped = fc.record(shape, { requiredKeys: [] });
  const withExtras = fc.tuple(
    shaped,
    fc.dictionary(fc.constantFrom('__proto__', 'constructor', 'role', 'x'), fc.anything(), { maxKeys: 2 }),
  );
  return fc.oneof(
    { weight: 4, arbitrary: shaped },
    { weight: 1, arbitrary: withExtras.map(([base, extra]) => ({ ...extra, ...(base as object) })) },
    { weight: 1, arbitrary: fc.anything() },
    { weight: keys.length === 0 ? 1 : 0, arbitrary: fc.constant(undefined) },
  );
}

/** A raw body: the superjson envelope around the input, or something that is not one. */
const rawBody = (input: unknown) =>
  fc.oneof(
    { weight: 6, arbitrary: fc.constant(JSON.stringify({ json: input })) },
    { weight: 1, arbitrary: fc.constant(JSON.stringify(input) ?? 'null') },
    { weight: 1, arbitrary: fc.string({ maxLength: 200 }) },
  );

async function stateOf(t: TestServer): Promise<string> {
  const [rows] = await t.sql.query<RowDataPacket[]>(
    `SELECT (SELECT COUNT(*) FROM users) u, (SELECT COUNT(*) FROM sessions) s, (SELECT COUNT(*) FROM refresh_tokens) r,
            (SELECT COUNT(*) FROM challenges) c, (SELECT COUNT(*) FROM links) l,
            (SELECT COUNT(*) FROM sessions WHERE revoked_at IS NOT NULL) rs,
            (SELECT COALESCE(MAX(updated_at), 0) FROM users) uu,
            (SELECT COUNT(*) FROM api_keys) k, (SELECT COUNT(*) FROM api_keys WHERE revoked_at IS NOT NULL) rk,
            (SELECT COUNT(*) FROM organizations) o, (SELECT COUNT(*) FROM organization_members) om,
            (SELECT COUNT(*) FROM organization_invitations) oi, (SELECT COUNT(*) FROM sessions WHERE active_organization_id IS NOT NULL) so,
            (SELECT COUNT(*) FROM sso_connections) sc, (SELECT COUNT(*) FROM organization_domains) od,
            (SELECT COUNT(*) FROM oauth_states) os`,
  );
  return JSON.stringify(rows[0]);
}

describe('every procedure under generated input', () => {
  it('the bot check refuses every forged or malformed solution with BOT_CHECK_REQUIRED and a challenge, never a 5xx, and changes nothing', async () => {
    await using t = await createTestServer({
      botCheck: { modes: { signup: 'always', login: 'always', requestPasswordReset: 'always', requestSignIn: 'always' } },
    });
    // Unsigned, as a browser calls them (a signed bff.* call without a signature is refused before the bot check).
    const guarded = procedures.filter((procedure) => 'botCheck' in procedure.shape && !procedure.signed);
    for (const procedure of guarded) {
      await fc.assert(
        fc.asyncProperty(botCheck(), async (solution) => {
          const before = await stateOf(t);
          const input = { email: 'x@example.com', password: 'a long enough passphrase', botCheck: solution };
          const response = await send(`${t.trpcUrl}/${procedure.path}`, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ json: input }),
          });
          expect(response.status, `${procedure.path} ${JSON.stringify(solution)?.slice(0, 100)}`).toBe(400);
          const data = (response.body as { error?: { json?: { data?: { iamCode?: string; botCheck?: unknown } } } }).error?.json?.data;
          expect(['BOT_CHECK_REQUIRED', 'INVALID_INPUT']).toContain(data?.iamCode);
          if (data?.iamCode === 'BOT_CHECK_REQUIRED') expect(data.botCheck).toMatchObject({ algorithm: 'SHA-256' });
          expect(await stateOf(t)).toBe(before);
        }),
        { numRuns: 60, seed: 20261202 + procedure.path.length },
      );
    }
    const [spent] = await t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM bot_check_solutions');
    expect(Number(spent[0]?.n)).toBe(0);
  }, 120_000);

  it('never answers 5xx, never leaks a stack or SQL, and changes nothing when it refuses (60 inputs for each procedure)', async () => {
    await using t = await createTestServer({
      hmacKeys,
      // Limits would turn most inputs into RATE_LIMITED after a few calls; the fuzz wants the validators.
      rateLimits: Object.fromEntries(
        [
          'signupPerIp',
          'signupPerEmail',
          'loginPerIp',
          'loginPerIpEmail',
          'codesPerIp',
          'linksPerIp',
          'resendsPerIp',
          'passwordResetPerIp',
          'signInRequestsPerIp',
          'apiKeyChangesPerUser',
          'orgChangesPerUser',
          'orgInvitesPerUser',
          'ssoDiscoverPerIp',
          'oauthPerIp',
        ].map((name) => [name, { points: 100_000 }]),
      ),
    });
    const user = await t.signUp();
    // An admin, so that the admin procedures' inputs are judged too (not only refused by role).
    await t.sql.query(`UPDATE users SET roles = '["user","admin"]' WHERE id = ?`, [user.userId]);
    const headers = { 'content-type': 'application/json', authorization: `Bearer ${user.accessToken}` };
    let calls = 0;

    for (const procedure of procedures) {
      await fc.assert(
        fc.asyncProperty(
          inputFor(procedure.shape).chain((input) => rawBody(input)),
          async (body) => {
            calls++;
            const before = await stateOf(t);
            const signature = () =>
              sign({ method: 'POST', path: `/trpc/${procedure.path}`, body, key: mainKey, timestamp: t.clock.now().getTime() });
            const response =
              procedure.type === 'query'
                ? await send(`${t.trpcUrl}/${procedure.path}?input=${encodeURIComponent(body)}`, { headers })
                : await send(`${t.trpcUrl}/${procedure.path}`, {
                    method: 'POST',
                    headers: procedure.signed ? { 'content-type': 'application/json', ...signature() } : headers,
                    body,
                  });
            expect(response.status, `${procedure.path} ${body.slice(0, 200)}`).toBeLessThan(500);
            expect(response.text).not.toMatch(/"stack"|\n\s+at |ER_[A-Z_]+|SELECT |INSERT |sqlMessage/);
            if (response.status !== 200) {
              const data = (response.body as { error?: { json?: { data?: { iamCode?: unknown } } } }).error?.json?.data;
              expect(typeof data?.iamCode).toBe('string');
              expect(await stateOf(t)).toBe(before);
            }
          },
        ),
        { numRuns: 60, seed: 20261122 + procedure.path.length },
      );
    }
    expect(calls).toBeGreaterThanOrEqual(procedures.length * 60);
  }, 300_000);
});
