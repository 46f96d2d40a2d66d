import { iamCodeOf, signInWithPasskey } from '@iam/client';
import { useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, Redirect, useLocation } from 'wouter';
import { useTRPC, useTRPCClient } from '../api';
import { Card, Field, Form } from '../components/Form';
import { messageOf } from '../errors';
import { afterSignInPath } from '../returnPath';
import { useSession } from '../session';

/** Password, passkey, social providers, or a code by email. */
export function SignInPage() {
  const api = useTRPCClient();
  const trpc = useTRPC();
  const session = useSession();
  const [, navigate] = useLocation();
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  const [codeChallenge, setCodeChallenge] = useState<string | null>(null);
  const [code, setCode] = useState('');
  const [passkeyError, setPasskeyError] = useState<string | null>(null);
  const providers = useQuery(trpc.oauth.providers.queryOptions());
  /** The organization whose single sign-on a refusal named (`SSO_REQUIRED`): the way in it offers instead. */
  const [ssoOrganizationId, setSsoOrganizationId] = useState<string | null>(null);
  const [ssoError, setSsoError] = useState<string | null>(null);
  /** Notes the organization of an `SSO_REQUIRED` refusal, then lets the form say the refusal in words. */
  const noteSso = (error: unknown): never => {
    setSsoOrganizationId(ssoOrganizationOf(error));
    throw error;
  };

  if (session.user) return <Redirect to={afterSignInPath()} />;

  const after = (result: Parameters<typeof session.accept>[0], challengeId?: string) => {
    const next = session.accept(result);
    if (next === 'authenticated') navigate(afterSignInPath());
    else if (next === 'challenge') navigate('/challenge');
    else navigate(`/verify?challenge=${encodeURIComponent(challengeId ?? '')}`);
  };

  return (
    <main className="narrow" id="main">
      <h1>Sign in</h1>
      {codeChallenge === null ? (
        <Card title="With your password">
          <Form
            submit="Sign in"
            onSubmit={async () => {
              const result = await api.auth.login.mutate({ email, password }).catch(noteSso);
              after(result, 'challengeId' in result ? result.challengeId : undefined);
            }}
          >
            <Field label="Email" name="email" type="email" autoComplete="username webauthn" value={email} onChange={setEmail} />
            <Field
              label="Password"
              name="password"
              type="password"
              autoComplete="current-password"
              value={password}
              onChange={setPassword}
            />
          </Form>
          <button
            type="button"
            className="link"
            onClick={() => {
              if (!email) return;
              void api.auth.requestSignIn.mutate({ email }).then((sent) => setCodeChallenge(sent.challengeId));
            }}
          >
            Email me a sign-in code instead
          </button>
        </Card>
      ) : (
        <Card title="Enter the code we emailed you">
          <Form
            submit="Sign in"
            onSubmit={async () => {
              after(await api.auth.signInWithCode.mutate({ challengeId: codeChallenge, code }).catch(noteSso));
            }}
          >
            <Field label="Code" name="code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={setCode} />
          </Form>
        </Card>
      )}
      {ssoOrganizationId && (
        <Card title="Your organization's sign-in">
          <p>Your organization signs you in through its identity provider.</p>
          <button
            type="button"
            onClick={() => {
              setSsoError(null);
              api.sso.authorize.mutate({ organizationId: ssoOrganizationId }).then(
                ({ url }) => window.location.assign(url),
                (error: unknown) => setSsoError(messageOf(error)),
              );
            }}
          >
            Continue with your organization's sign-in
          </button>
          {ssoError && (
            <p role="alert" className="error">
              {ssoError}
            </p>
          )}
        </Card>
      )}
      <Card title="Other ways">
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setPasskeyError(null);
            signInWithPasskey(api).then(
              (result) => after(result),
              (error: unknown) => {
                setPasskeyError(messageOf(error));
                setSsoOrganizationId(ssoOrganizationOf(error));
              },
            );
          }}
        >
          Sign in with a passkey
        </button>
        {passkeyError && (
          <p role="alert" className="error">
            {passkeyError}
          </p>
        )}
        {providers.data?.map((provider) => (
          <button
            key={provider.id}
            type="button"
            className="secondary"
            onClick={() => {
              void api.oauth.authorize.mutate({ provider: provider.id }).then(({ url }) => window.location.assign(url));
            }}
          >
            Continue with {provider.name}
          </button>
        ))}
      </Card>
      <p>
        New here? <Link href="/sign-up">Create an account</Link>
      </p>
    </main>
  );
}

/** The organization an `SSO_REQUIRED` refusal names (docs/api.md, org.update `requireSso`), else null. */
function ssoOrganizationOf(error: unknown): string | null {
  if (iamCodeOf(error) !== 'SSO_REQUIRED') return null;
  const organizationId = (error as { data?: { organizationId?: unknown } }).data?.organizationId;
  return typeof organizationId === 'string' ? organizationId : null;
}
