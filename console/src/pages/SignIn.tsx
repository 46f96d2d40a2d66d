import { signInWithPasskey } from '@iam/client';
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
              const result = await api.auth.login.mutate({ email, password });
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
              after(await api.auth.signInWithCode.mutate({ challengeId: codeChallenge, code }));
            }}
          >
            <Field label="Code" name="code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={setCode} />
          </Form>
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
              (error: unknown) => setPasskeyError(messageOf(error)),
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
