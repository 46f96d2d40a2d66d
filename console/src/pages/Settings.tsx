import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { useLocation } from 'wouter';
import { useTRPC, useTRPCClient } from '../api';
import { Card, Field, Form } from '../components/Form';
import { StepUpCancelled, useStepUp } from '../components/StepUp';
import { messageOf } from '../errors';
import { useSession } from '../session';

/** Runs `work`; a closed step-up dialog is no error: nothing changed, nothing to say. */
async function unlessCancelled(work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!(error instanceof StepUpCancelled)) throw error;
  }
}

/** The export as a file the browser saves (a Blob URL: no inline data, nothing leaves the page). */
function download(data: unknown, fileName: string): void {
  const url = URL.createObjectURL(new Blob([JSON.stringify(data, null, 2)], { type: 'application/json' }));
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  // Give the download a moment to start before the URL goes.
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

/** Name, email address, password, the data download and deleting the account. */
export function SettingsPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const stepUp = useStepUp();
  if (!me.data) return <p className="loading">Loading…</p>;
  return (
    <>
      <h1>Settings</h1>
      <NameCard current={me.data.name} />
      <EmailCard current={me.data.email} stepUp={stepUp} />
      <PasswordCard stepUp={stepUp} />
      <ExportCard email={me.data.email} />
      <DeleteCard stepUp={stepUp} />
      {stepUp.prompt}
    </>
  );
}

type StepUp = ReturnType<typeof useStepUp>;

function NameCard({ current }: { current: string | null }) {
  const api = useTRPCClient();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const session = useSession();
  const [name, setName] = useState(current ?? '');
  const [status, setStatus] = useState<string | null>(null);
  return (
    <Card title="Profile">
      <Form
        submit="Save name"
        onSubmit={async () => {
          setStatus(null);
          const user = await api.auth.updateProfile.mutate({ name: name.trim() || null });
          session.setUser(user);
          queryClient.setQueryData(trpc.auth.me.queryKey(), user);
          setStatus('Your name is saved.');
        }}
      >
        <Field label="Name" name="name" autoComplete="name" value={name} onChange={setName} required={false} />
      </Form>
      <p role="status">{status}</p>
    </Card>
  );
}

function EmailCard({ current, stepUp }: { current: string; stepUp: StepUp }) {
  const api = useTRPCClient();
  const [newEmail, setNewEmail] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  return (
    <Card title="Email address">
      <p>
        You sign in as <strong>{current}</strong>. To change it, we send a link to the new address; it changes when you open the link, and
        every device is signed out then.
      </p>
      <Form
        submit="Send the link"
        onSubmit={() =>
          unlessCancelled(async () => {
            setStatus(null);
            const email = newEmail.trim();
            await stepUp.run('email_change', (stepUpToken) => api.auth.requestEmailChange.mutate({ newEmail: email, stepUpToken }));
            setStatus(`We sent a link to ${email}. Open it to finish the change.`);
          })
        }
      >
        <Field label="New email address" name="new-email" type="email" autoComplete="email" value={newEmail} onChange={setNewEmail} />
      </Form>
      <p role="status">{status}</p>
    </Card>
  );
}

function PasswordCard({ stepUp }: { stepUp: StepUp }) {
  const api = useTRPCClient();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  // Whether the account has a password at all (social, passkey and email-code accounts may not):
  // only the export says so. Read once per visit (each read is audited).
  const exported = useQuery(
    trpc.auth.exportData.queryOptions(undefined, { staleTime: Number.POSITIVE_INFINITY, refetchOnWindowFocus: false }),
  );
  const [currentPassword, setCurrentPassword] = useState('');
  const [newPassword, setNewPassword] = useState('');
  const [status, setStatus] = useState<string | null>(null);
  const hasPassword = exported.data?.profile.hasPassword;
  if (hasPassword === undefined) {
    return (
      <Card title="Password">
        {exported.error ? (
          <p role="alert" className="error">
            {messageOf(exported.error)}
          </p>
        ) : (
          <p className="loading">Loading…</p>
        )}
      </Card>
    );
  }
  const done = (message: string) => {
    setCurrentPassword('');
    setNewPassword('');
    setStatus(message);
    void queryClient.invalidateQueries({ queryKey: trpc.auth.exportData.queryKey() });
    void queryClient.invalidateQueries({ queryKey: trpc.session.list.queryKey() });
  };
  return (
    <Card title="Password">
      {hasPassword ? (
        <Form
          submit="Change password"
          onSubmit={async () => {
            setStatus(null);
            await api.auth.changePassword.mutate({ currentPassword, newPassword });
            done('Your password is changed. Your other devices are signed out.');
          }}
        >
          <Field
            label="Current password"
            name="current-password"
            type="password"
            autoComplete="current-password"
            value={currentPassword}
            onChange={setCurrentPassword}
          />
          <Field
            label="New password"
            name="new-password"
            type="password"
            autoComplete="new-password"
            value={newPassword}
            onChange={setNewPassword}
          />
        </Form>
      ) : (
        <>
          <p>Your account has no password yet: you sign in another way. Set one to sign in with it too.</p>
          <Form
            submit="Set password"
            onSubmit={() =>
              unlessCancelled(async () => {
                setStatus(null);
                await stepUp.run('password_set', (stepUpToken) => api.auth.setPassword.mutate({ newPassword, stepUpToken }));
                done('Your password is set.');
              })
            }
          >
            <Field
              label="New password"
              name="new-password"
              type="password"
              autoComplete="new-password"
              value={newPassword}
              onChange={setNewPassword}
            />
          </Form>
        </>
      )}
      <p role="status">{status}</p>
    </Card>
  );
}

function ExportCard({ email }: { email: string }) {
  const api = useTRPCClient();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [status, setStatus] = useState<string | null>(null);
  return (
    <Card title="Your data">
      <p>Download everything we hold about you ({email}) as a JSON file: your profile, sessions, devices and activity.</p>
      <Form
        submit="Download my data"
        onSubmit={async () => {
          setStatus(null);
          const data = await api.auth.exportData.query();
          queryClient.setQueryData(trpc.auth.exportData.queryKey(), data);
          download(data, `account-data-${data.exportedAt.toISOString().slice(0, 10)}.json`);
          setStatus('Your download has started.');
        }}
      >
        {null}
      </Form>
      <p role="status">{status}</p>
    </Card>
  );
}

function DeleteCard({ stepUp }: { stepUp: StepUp }) {
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const session = useSession();
  const [, navigate] = useLocation();
  const [confirming, setConfirming] = useState(false);
  return (
    <Card title="Delete account">
      <p>
        Deleting your account signs out every device and erases your profile, devices, passkeys and linked accounts. It cannot be undone.
      </p>
      {confirming ? (
        <div className="confirm">
          <p>
            <strong>Delete your account for good?</strong>
          </p>
          <Form
            submit="Yes, delete my account"
            onSubmit={() =>
              unlessCancelled(async () => {
                await stepUp.run('account_delete', (stepUpToken) => api.auth.deleteAccount.mutate({ stepUpToken }));
                // Nothing of the account stays in the page.
                queryClient.clear();
                session.setUser(null);
                navigate('/sign-in');
              })
            }
          >
            {null}
          </Form>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Keep my account
          </button>
        </div>
      ) : (
        <button type="button" className="danger" onClick={() => setConfirming(true)}>
          Delete my account…
        </button>
      )}
    </Card>
  );
}
