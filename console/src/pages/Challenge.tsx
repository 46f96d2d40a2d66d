import { verifyChallengeWithPasskey } from '@iam/client';
import { describeReason } from '@iam/shared';
import { useState } from 'react';
import { Redirect, useLocation } from 'wouter';
import { useTRPCClient } from '../api';
import { Card, Field, Form } from '../components/Form';
import { messageOf } from '../errors';
import { afterSignInPath } from '../returnPath';
import { useSession } from '../session';

const methodLabels = {
  email_otp: 'the code we emailed you',
  totp: 'the code from your authenticator app',
  backup_code: 'one of your backup codes',
  passkey: 'your passkey',
} as const;

/** A sign-in (or refresh) the checks asked for more proof: say why, and take the answer. */
export function ChallengePage() {
  const api = useTRPCClient();
  const session = useSession();
  const [, navigate] = useLocation();
  const [code, setCode] = useState('');
  const [passkeyError, setPasskeyError] = useState<string | null>(null);
  const challenge = session.challenge;
  if (!challenge) return <Redirect to={session.user ? afterSignInPath() : '/sign-in'} />;
  const codeMethods = challenge.methods.filter((method) => method !== 'passkey');
  const done = (result: Parameters<typeof session.accept>[0]) => {
    if (session.accept(result) === 'authenticated') navigate(afterSignInPath());
  };
  return (
    <main className="narrow" id="main">
      <h1>Confirm it is you</h1>
      {challenge.reasons.length > 0 && (
        <Card title="Why we ask">
          <ul>
            {challenge.reasons.map((reason) => (
              <li key={reason}>{describeReason(reason)}</li>
            ))}
          </ul>
        </Card>
      )}
      {codeMethods.length > 0 && (
        <Card title="Enter a code">
          <p>Use {codeMethods.map((method) => methodLabels[method]).join(', or ')}.</p>
          <Form
            submit="Continue"
            onSubmit={async () => done(await api.mfa.verify.mutate({ challengeId: challenge.challengeId, code: code.trim() }))}
          >
            <Field label="Code" name="code" autoComplete="one-time-code" value={code} onChange={setCode} />
          </Form>
          {challenge.methods.includes('email_otp') && (
            <button type="button" className="link" onClick={() => void api.mfa.resend.mutate({ challengeId: challenge.challengeId })}>
              Email me a new code
            </button>
          )}
        </Card>
      )}
      {challenge.methods.includes('passkey') && (
        <Card title="Use a passkey">
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setPasskeyError(null);
              verifyChallengeWithPasskey(api, challenge).then(done, (error: unknown) => setPasskeyError(messageOf(error)));
            }}
          >
            Use my passkey
          </button>
          {passkeyError && (
            <p role="alert" className="error">
              {passkeyError}
            </p>
          )}
        </Card>
      )}
    </main>
  );
}
