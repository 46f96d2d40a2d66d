import { describe, expect, it } from 'vitest';
import { parseOAuthConfig } from './config';
import { toProfile } from './profile';
import { defineProvider, type ProviderDefinition } from './providers';

function preset(entry: Record<string, unknown>): ProviderDefinition {
  const [provider] = parseOAuthConfig({ providers: [{ clientId: 'client', clientSecret: 'secret', ...entry }] }).providers;
  if (!provider) throw new Error('no provider');
  return defineProvider(provider, 'https://id.example.com');
}

describe('profile mapping of the presets', () => {
  it('Google and any OIDC provider: standard claims; only a true email_verified counts', () => {
    const google = preset({ type: 'google' });
    expect(toProfile(google.mapProfile({ sub: '1', email: 'a@example.com', email_verified: true, name: 'A' }))).toEqual({
      subject: '1',
      email: 'a@example.com',
      emailVerified: true,
      name: 'A',
    });
    expect(toProfile(google.mapProfile({ sub: '1', email: 'a@example.com', email_verified: 'yes' }))?.emailVerified).toBe(false);
    expect(toProfile(google.mapProfile({ sub: '1', email: 'a@example.com' }))?.emailVerified).toBe(false);
    expect(toProfile(google.mapProfile({ sub: '1', given_name: 'Ada', family_name: 'Lovelace' }))?.name).toBe('Ada Lovelace');
  });

  it('Apple: email_verified arrives as the string "true"', () => {
    const apple = preset({ type: 'apple', clientSecret: 'signed' });
    expect(toProfile(apple.mapProfile({ sub: '001.abc', email: 'x@privaterelay.appleid.com', email_verified: 'true' }))).toMatchObject({
      emailVerified: true,
    });
  });

  it('Microsoft: the email claim is trusted only with xms_edov, email_verified, or for personal accounts', () => {
    const microsoft = preset({ type: 'microsoft' });
    const work = { sub: 's', email: 'a@contoso.com', tid: '72f988bf-86f1-41af-91ab-2d7cd011db47' };
    expect(toProfile(microsoft.mapProfile(work))?.emailVerified).toBe(false);
    expect(toProfile(microsoft.mapProfile({ ...work, xms_edov: true }))?.emailVerified).toBe(true);
    expect(toProfile(microsoft.mapProfile({ ...work, tid: '9188040d-6c67-4c5b-b112-36a304b66dad' }))?.emailVerified).toBe(true);
    expect(microsoft.issuer).toBe('https://login.microsoftonline.com/common/v2.0');
  });

  it('GitHub: numeric ids, the login as a fallback name, the verified primary address from /user/emails', async () => {
    const github = preset({ type: 'github' });
    const profile = toProfile(github.mapProfile({ id: 583231, login: 'octocat', name: null, email: 'public@example.com' }));
    expect(profile).toEqual({ subject: '583231', email: 'public@example.com', emailVerified: false, name: 'octocat' });
    if (!profile || !github.completeProfile) throw new Error('no profile');
    const asked: string[] = [];
    const completed = await github.completeProfile(profile, async (url) => {
      asked.push(url);
      return [
        { email: 'old@example.com', primary: false, verified: true },
        { email: 'primary@example.com', primary: true, verified: true },
      ];
    });
    expect(asked).toEqual(['https://api.github.com/user/emails']);
    expect(completed).toMatchObject({ email: 'primary@example.com', emailVerified: true });
    const unverified = await github.completeProfile(profile, async () => [{ email: 'p@example.com', primary: true, verified: false }]);
    expect(unverified.emailVerified).toBe(false);
  });

  it('Discord: `verified` and `global_name`', () => {
    const discord = preset({ type: 'discord' });
    expect(
      toProfile(
        discord.mapProfile({ id: '80351110224678912', username: 'nelly', global_name: 'Nelly', email: 'n@example.com', verified: true }),
      ),
    ).toEqual({ subject: '80351110224678912', email: 'n@example.com', emailVerified: true, name: 'Nelly' });
  });

  it('an OAuth 2 field map reads dot paths; emailVerified may be asserted by the operator', () => {
    const mapped = preset({
      id: 'legacy',
      type: 'oauth2',
      authorizationUrl: 'https://l.example.com/a',
      tokenUrl: 'https://l.example.com/t',
      userinfoUrl: 'https://l.example.com/u',
      scopes: [],
      profile: { id: 'data.id', email: 'data.mail', emailVerified: true },
    });
    expect(toProfile(mapped.mapProfile({ data: { id: 'u1', mail: 'u@example.com' } }))).toEqual({
      subject: 'u1',
      email: 'u@example.com',
      emailVerified: true,
      name: null,
    });
  });

  it('refuses profiles without a usable subject, and drops malformed addresses and names with markup', () => {
    expect(toProfile({ id: '' })).toBeNull();
    expect(toProfile({ id: { nested: true } })).toBeNull();
    expect(toProfile({ id: 'x'.repeat(256) })).toBeNull();
    expect(toProfile({ id: 'has space' })).toBeNull();
    expect(toProfile({ id: 1.5 })).toBeNull();
    expect(toProfile({ id: 's', email: 'not an address', emailVerified: true })).toEqual({
      subject: 's',
      email: null,
      emailVerified: false,
      name: null,
    });
    expect(toProfile({ id: 's', name: '<img src=x onerror=alert(1)>' })?.name).toBeNull();
    expect(toProfile({ id: 's', name: `  ${'é'.repeat(150)}  ` })?.name).toHaveLength(100);
  });
});
