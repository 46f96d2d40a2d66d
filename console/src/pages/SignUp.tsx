import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import { useTRPCClient } from '../api';
import { Card, Field, Form } from '../components/Form';

export function SignUpPage() {
  const api = useTRPCClient();
  const [, navigate] = useLocation();
  const [name, setName] = useState('');
  const [email, setEmail] = useState('');
  const [password, setPassword] = useState('');
  return (
    <main className="narrow" id="main">
      <h1>Create an account</h1>
      <Card title="Your details">
        <Form
          submit="Create account"
          onSubmit={async () => {
            const started = await api.auth.signup.mutate({ email, password, ...(name ? { name } : {}) });
            navigate(`/verify?challenge=${encodeURIComponent(started.challengeId)}`);
          }}
        >
          <Field label="Name (optional)" name="name" autoComplete="name" value={name} onChange={setName} required={false} />
          <Field label="Email" name="email" type="email" autoComplete="email" value={email} onChange={setEmail} />
          <Field label="Password" name="password" type="password" autoComplete="new-password" value={password} onChange={setPassword} />
        </Form>
      </Card>
      <p>
        Already have an account? <Link href="/sign-in">Sign in</Link>
      </p>
    </main>
  );
}
