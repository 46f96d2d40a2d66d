import { useState } from 'react';
import { useLocation, useSearch } from 'wouter';
import { useTRPCClient } from '../api';
import { Card, Field, Form } from '../components/Form';
import { useSession } from '../session';

/** The code from the verification mail (the mail's link opens the service's own page). */
export function VerifyPage() {
  const api = useTRPCClient();
  const session = useSession();
  const [, navigate] = useLocation();
  const challengeId = new URLSearchParams(useSearch()).get('challenge') ?? '';
  const [code, setCode] = useState('');
  const [resent, setResent] = useState(false);
  return (
    <main className="narrow" id="main">
      <h1>Check your email</h1>
      <Card title="Enter the code we sent you">
        <Form
          submit="Verify"
          onSubmit={async () => {
            const result = await api.auth.verifyEmail.mutate({ challengeId, code });
            session.accept(result);
            navigate('/');
          }}
        >
          <Field label="Code" name="code" inputMode="numeric" autoComplete="one-time-code" value={code} onChange={setCode} />
        </Form>
        <button
          type="button"
          className="link"
          onClick={() => {
            void api.mfa.resend.mutate({ challengeId }).then(() => setResent(true));
          }}
        >
          Send a new code
        </button>
        {resent && <p role="status">A new code is on its way.</p>}
      </Card>
    </main>
  );
}
