import { iamCodeOf } from '@iam/client';
import type { RowDataPacket } from 'mysql2';
import { describe, expect, it } from 'vitest';
import { authenticated, codeFrom, uniqueEmail } from '../harness/server';
import { accountId, corp, createOAuthEnv, deliver, type OAuthEnv, visitProvider } from './env';

function linkRequired<T extends { status: string }>(result: T): Extract<T, { status: 'link_required' }> {
  if (result.status !== 'link_required') throw new Error(`expected link_required, got ${result.status}: ${JSON.stringify(result)}`);
  return result as Extract<T, { status: 'link_required' }>;
}

async function linkedIdentities(env: OAuthEnv, userId: string): Promise<RowDataPacket[]> {
  const [rows] = await env.t.sql.query<RowDataPacket[]>('SELECT provider, subject FROM oauth_accounts WHERE user_id = ?', [userId]);
  return rows;
}

describe('accounts and linking: by (provider, subject), never by address alone', () => {
  it('takeover refused: an unverified provider address that an account owns gives link_required, not a session for that account', async () => {
    await using env = await createOAuthEnv();
    const victim = await env.t.signUp();
    const attacker = env.t.client();
    const response = await visitProvider(env, attacker.api, accountId('attacker'), {
      account: { email: victim.email, email_verified: false, name: 'Not the owner' },
    });
    const result = linkRequired(await deliver(attacker.api, response));
    expect(result).toMatchObject({ provider: corp, email: victim.email, linkToken: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/) });
    expect(JSON.stringify(result)).not.toMatch(/accessToken|usr_/);
    expect(attacker.jar.get('iam_rt')).toBeUndefined();
    expect(await linkedIdentities(env, victim.userId)).toEqual([]);
    const [sessions] = await env.t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM sessions WHERE user_id = ?', [victim.userId]);
    expect(sessions[0]?.n).toBe(1);

    // The token needs the owner's sign-in: without one it is refused, and a token at rest is only a hash.
    expect(await attacker.api.oauth.link.mutate({ linkToken: result.linkToken }).catch(iamCodeOf)).toBe('UNAUTHENTICATED');
    const [tokens] = await env.t.sql.query<RowDataPacket[]>('SELECT token_hash FROM oauth_link_tokens');
    expect(tokens.map((row) => row.token_hash)).not.toContain(result.linkToken);
    // Lured into the owner's signed-in browser, it links nothing: it belongs to the browser that met the provider.
    expect(await victim.api.oauth.link.mutate({ linkToken: result.linkToken }).catch(iamCodeOf)).toBe('LINK_INVALID');
    expect(await linkedIdentities(env, victim.userId)).toEqual([]);
  });

  it('pre-hijacking refused: a verified provider address of an unverified local account gives link_required', async () => {
    await using env = await createOAuthEnv();
    const email = uniqueEmail('squatted');
    // Someone registered the address with a password and never proved it.
    await env.t.client().api.auth.signup.mutate({ email, password: 'squatter password 123 x' });
    const owner = env.t.client();
    const result = linkRequired(
      await deliver(owner.api, await visitProvider(env, owner.api, accountId(), { account: { email, email_verified: true } })),
    );
    expect(result.email).toBe(email);
    expect(owner.jar.get('iam_rt')).toBeUndefined();
    const [identities] = await env.t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM oauth_accounts');
    expect(identities[0]?.n).toBe(0);
  });

  it('a verified provider address of a verified account links it automatically and signs in to that account', async () => {
    await using env = await createOAuthEnv();
    const owner = await env.t.signUp();
    const person = accountId();
    // The owner's own browser: the sign-in checks have nothing to doubt there.
    const browser = env.t.client({ deviceOf: owner.jar });
    const signedIn = authenticated(
      await deliver(
        browser.api,
        await visitProvider(env, browser.api, person, { account: { email: owner.email.toUpperCase(), email_verified: true } }),
      ),
    );
    expect(signedIn.user.id).toBe(owner.userId);
    expect(await linkedIdentities(env, owner.userId)).toEqual([expect.objectContaining({ provider: corp, subject: person })]);
    expect(await owner.api.oauth.accounts.query()).toEqual([expect.objectContaining({ provider: corp, name: 'Corp SSO' })]);
    // The password still works.
    await env.t.signInOnNewDevice(owner);
  });

  it('link_required, then the owner signs in with the password in that browser and links; the identity then signs in to the account', async () => {
    await using env = await createOAuthEnv();
    const owner = await env.t.signUp();
    const person = accountId();
    const browser = env.t.client();
    const pending = linkRequired(
      await deliver(browser.api, await visitProvider(env, browser.api, person, { account: { email: owner.email, email_verified: false } })),
    );

    // Another account signed in on this browser cannot take the identity: the token is for the owner's account.
    const other = await env.t.signUp();
    await env.t.signInOn(browser, other);
    expect(await browser.api.oauth.link.mutate({ linkToken: pending.linkToken }).catch(iamCodeOf)).toBe('LINK_INVALID');

    await env.t.signInOn(browser, owner);
    expect(await browser.api.oauth.link.mutate({ linkToken: pending.linkToken })).toEqual({
      status: 'linked',
      provider: corp,
      email: owner.email,
    });
    // Single use.
    expect(await browser.api.oauth.link.mutate({ linkToken: pending.linkToken }).catch(iamCodeOf)).toBe('LINK_INVALID');
    expect(await linkedIdentities(env, owner.userId)).toEqual([expect.objectContaining({ provider: corp, subject: person })]);

    const later = env.t.client({ deviceOf: browser.jar });
    expect(authenticated(await deliver(later.api, await visitProvider(env, later.api, person))).user.id).toBe(owner.userId);
  });

  it('a link token expires after 30 minutes', async () => {
    await using env = await createOAuthEnv();
    const owner = await env.t.signUp();
    const browser = env.t.client();
    const pending = linkRequired(
      await deliver(
        browser.api,
        await visitProvider(env, browser.api, accountId(), { account: { email: owner.email, email_verified: false } }),
      ),
    );
    await env.t.signInOn(browser, owner);
    env.t.clock.advance(30 * 60 + 1);
    expect(await browser.api.oauth.link.mutate({ linkToken: pending.linkToken }).catch(iamCodeOf)).toBe('LINK_INVALID');
  });

  it('no verified address and no account: link_required without creating an account; a new account in that browser can take it', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const person = accountId();
    const pending = linkRequired(
      await deliver(
        browser.api,
        await visitProvider(env, browser.api, person, { account: { email: uniqueEmail('unproven'), email_verified: false } }),
      ),
    );
    const [users] = await env.t.sql.query<RowDataPacket[]>('SELECT COUNT(*) AS n FROM users');
    expect(users[0]?.n).toBe(0);

    // The person creates an account with a password (proving an address), then links the identity.
    const email = uniqueEmail('proven');
    const signup = await browser.api.auth.signup.mutate({ email, password: 'a long enough password 42' });
    const verified = authenticated(
      await browser.api.auth.verifyEmail.mutate({ challengeId: signup.challengeId, code: codeFrom(await env.t.lastMailTo(email)) }),
    );
    expect((await browser.api.oauth.link.mutate({ linkToken: pending.linkToken })).status).toBe('linked');
    expect(await linkedIdentities(env, verified.user.id)).toEqual([expect.objectContaining({ subject: person })]);
  });

  it('an account holds one identity per provider, whether the link is automatic or by token', async () => {
    await using env = await createOAuthEnv();
    const owner = await env.t.signUp();
    const person = accountId();
    const firstBrowser = env.t.client({ deviceOf: owner.jar });
    authenticated(
      await deliver(
        firstBrowser.api,
        await visitProvider(env, firstBrowser.api, person, { account: { email: owner.email, email_verified: true } }),
      ),
    );
    // Another identity of the same provider with the owner's verified address: refused, not linked beside the first.
    const browser = env.t.client();
    const automatic = await deliver(
      browser.api,
      await visitProvider(env, browser.api, accountId(), { account: { email: owner.email, email_verified: true } }),
    ).catch(iamCodeOf);
    expect(automatic).toBe('OAUTH_ACCOUNT_LINKED');
    // And through a link token, after the owner's sign-in.
    const pending = linkRequired(
      await deliver(
        browser.api,
        await visitProvider(env, browser.api, accountId(), { account: { email: owner.email, email_verified: false } }),
      ),
    );
    await env.t.signInOn(browser, owner);
    expect(await browser.api.oauth.link.mutate({ linkToken: pending.linkToken }).catch(iamCodeOf)).toBe('OAUTH_ACCOUNT_LINKED');
    expect(await linkedIdentities(env, owner.userId)).toEqual([expect.objectContaining({ subject: person })]);
  });

  it('unlink refuses to remove the last way to sign in, and removes a provider when a password remains', async () => {
    await using env = await createOAuthEnv();
    const browser = env.t.client();
    const email = uniqueEmail('only-provider');
    authenticated(
      await deliver(browser.api, await visitProvider(env, browser.api, accountId(), { account: { email, email_verified: true } })),
    );
    const refused = await browser.api.oauth.unlink.mutate({ provider: corp }).catch((error: unknown) => error);
    expect(iamCodeOf(refused)).toBe('OAUTH_LAST_SIGN_IN_METHOD');
    expect((refused as { data?: { httpStatus?: number } }).data?.httpStatus).toBe(400);
    expect(await browser.api.oauth.accounts.query()).toHaveLength(1);
    expect(await browser.api.oauth.unlink.mutate({ provider: 'nobody' }).catch(iamCodeOf)).toBe('NOT_FOUND');

    const withPassword = await env.t.signUp();
    const linking = env.t.client({ deviceOf: withPassword.jar });
    authenticated(
      await deliver(
        linking.api,
        await visitProvider(env, linking.api, accountId(), { account: { email: withPassword.email, email_verified: true } }),
      ),
    );
    expect(await withPassword.api.oauth.unlink.mutate({ provider: corp })).toEqual({ status: 'unlinked' });
    expect(await withPassword.api.oauth.accounts.query()).toEqual([]);
    const [audits] = await env.t.sql.query<RowDataPacket[]>("SELECT type FROM audit_events WHERE user_id = ? AND type LIKE 'oauth.%'", [
      withPassword.userId,
    ]);
    expect(audits.map((row) => row.type)).toEqual(expect.arrayContaining(['oauth.linked', 'oauth.unlinked']));
  });
});
