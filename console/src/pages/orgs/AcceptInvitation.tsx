import { useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { Link, useLocation, useSearch } from 'wouter';
import { useTRPC, useTRPCClient } from '../../api';
import { Card, Form } from '../../components/Form';
import { clearReturnPath, returnAfterSignIn } from '../../returnPath';
import { useSession } from '../../session';
import type { roleLabels } from './roles';

/**
 * The page an invitation's link opens (`…/console/accept-invitation?token=…`): the invited
 * person signs in (and comes back here), then accepts with a button, never on page load, as
 * mail scanners open links.
 */
export function AcceptInvitationPage() {
  const token = new URLSearchParams(useSearch()).get('token') ?? '';
  const { user, challenge } = useSession();
  const [, navigate] = useLocation();

  useEffect(() => {
    if (user === null && token) returnAfterSignIn(`/accept-invitation?token=${encodeURIComponent(token)}`);
    if (user) clearReturnPath();
  }, [user, token]);

  if (user === undefined) return <p className="loading">Loading…</p>;
  return (
    <main className="narrow" id="main">
      <h1>Join an organization</h1>
      {!token ? (
        <p role="alert" className="error">
          This link has no invitation in it. Open the link from the invitation mail again.
        </p>
      ) : !user ? (
        <Card title="Sign in first">
          <p>You were invited to an organization. Sign in with the address the invitation was sent to, then accept it here.</p>
          {challenge ? (
            <button type="button" onClick={() => navigate('/challenge')}>
              Finish signing in
            </button>
          ) : (
            <p>
              <Link href="/sign-in">Sign in to accept</Link> · <Link href="/sign-up">Create an account</Link>
            </p>
          )}
        </Card>
      ) : (
        <Accept token={token} email={user.email} />
      )}
    </main>
  );
}

function Accept({ token, email }: { token: string; email: string }) {
  const api = useTRPCClient();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [joined, setJoined] = useState<{ id: string; name: string; role: keyof typeof roleLabels } | null>(null);
  if (joined)
    return (
      <Card title="You joined">
        <p role="status">
          You are now {joined.role === 'admin' ? 'an admin' : 'a member'} of {joined.name}.
        </p>
        <p>
          <Link href={`/organizations/${joined.id}`}>Open {joined.name}</Link>
        </p>
      </Card>
    );
  return (
    <Card title="Accept the invitation">
      <p>You are signed in as {email}. Accept to join the organization that invited you.</p>
      <Form
        submit="Accept invitation"
        onSubmit={async () => {
          const { organization, role } = await api.org.acceptInvitation.mutate({ token });
          await queryClient.invalidateQueries({ queryKey: trpc.org.pathKey() });
          setJoined({ id: organization.id, name: organization.name, role });
        }}
      >
        {null}
      </Form>
      <p>
        <Link href="/">Not now</Link>
      </p>
    </Card>
  );
}
