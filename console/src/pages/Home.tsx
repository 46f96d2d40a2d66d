import { useQuery } from '@tanstack/react-query';
import { useTRPC } from '../api';
import { Card } from '../components/Form';

/** The signed-in user's account at a glance. */
export function HomePage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  if (!me.data) return <p className="loading">Loading…</p>;
  const user = me.data;
  return (
    <>
      <h1>Your account</h1>
      <Card title="Profile">
        <dl className="facts">
          <dt>Name</dt>
          <dd>{user.name ?? '—'}</dd>
          <dt>Email</dt>
          <dd>{user.email}</dd>
          <dt>Member since</dt>
          <dd>{user.createdAt.toLocaleDateString()}</dd>
        </dl>
      </Card>
      <Card title="Security">
        <dl className="facts">
          <dt>Authenticator app</dt>
          <dd>{user.mfa.totp ? 'On' : 'Off'}</dd>
          <dt>Passkeys</dt>
          <dd>{user.mfa.passkeys}</dd>
        </dl>
      </Card>
    </>
  );
}
