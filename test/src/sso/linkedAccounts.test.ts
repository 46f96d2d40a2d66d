import { createAccessTokenStore, iamCodeOf } from '@iam/client';
import { describe, expect, it } from 'vitest';
import { authenticated } from '../harness/server';
import { createSsoEnv, rows, ssoOrganization, visitIdp } from './env';

describe("an organization's connection among the account's ways in", () => {
  it('oauth.accounts names it after the organization, and it counts as a way in when another provider is unlinked', async () => {
    await using env = await createSsoEnv({ socialProvider: true });
    const org = await ssoOrganization(env);
    const email = `grace@${org.domain}`;
    // Made through the organization's SSO: no password, no passkey.
    const store = createAccessTokenStore();
    const browser = env.t.client({ accessToken: store });
    const back = await visitIdp(env, browser.api, email, { email_verified: true, name: 'Grace' });
    const viaSso = authenticated(
      await browser.api.oauth.callback.mutate({ provider: org.providerId, code: back.code, state: back.state, iss: back.iss }),
    );
    store.set(viaSso.accessToken);
    // The same verified address through the social provider joins the account.
    const social = env.t.client({ deviceOf: browser.jar });
    const { url } = await social.api.oauth.authorize.mutate({ provider: 'corp' });
    env.idp.accounts.set('grace-social', { email, email_verified: true });
    const redirect = await env.idp.authorize(url, 'grace-social');
    const viaSocial = authenticated(
      await social.api.oauth.callback.mutate({
        provider: 'corp',
        code: redirect.searchParams.get('code') ?? '',
        state: redirect.searchParams.get('state') ?? '',
        iss: redirect.searchParams.get('iss') ?? undefined,
      }),
    );
    expect(viaSocial.user.id).toBe(viaSso.user.id);

    const accounts = await browser.api.oauth.accounts.query();
    expect(accounts.map((account) => [account.provider, account.name]).sort()).toEqual(
      [
        ['corp', 'corp'],
        [org.providerId, 'Acme (single sign-on)'],
      ].sort(),
    );

    // The organization's connection still signs the person in: the social provider may go.
    expect(await browser.api.oauth.unlink.mutate({ provider: 'corp' })).toEqual({ status: 'unlinked' });
    // Now it is the last way in, and stays.
    expect(await browser.api.oauth.unlink.mutate({ provider: org.providerId }).catch(iamCodeOf)).toBe('OAUTH_LAST_SIGN_IN_METHOD');
    expect(await rows(env.t, 'SELECT provider FROM oauth_accounts WHERE user_id = ?', [viaSso.user.id])).toEqual([
      { provider: org.providerId },
    ]);
  });
});
