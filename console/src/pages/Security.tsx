import { type RouterOutputs, registerPasskey } from '@iam/client';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import QRCode from 'qrcode';
import { useState } from 'react';
import { useTRPC, useTRPCClient } from '../api';
import { Card, Field, Form } from '../components/Form';
import { type StepUp, useStepUp } from '../components/StepUp';
import { messageOf } from '../errors';
import './Security.css';

type Passkey = RouterOutputs['passkey']['list'][number];

/** The second factors of the account: the authenticator app, its backup codes, and passkeys. */
export function SecurityPage() {
  const trpc = useTRPC();
  const me = useQuery(trpc.auth.me.queryOptions());
  const stepUp = useStepUp();
  if (!me.data) return <p className="loading">Loading…</p>;
  return (
    <>
      <h1>Security</h1>
      <AuthenticatorApp enabled={me.data.mfa.totp} stepUp={stepUp} />
      <Passkeys stepUp={stepUp} />
      {stepUp.prompt}
    </>
  );
}

function useRefreshAccount() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () =>
    Promise.all([
      queryClient.invalidateQueries({ queryKey: trpc.auth.me.queryKey() }),
      queryClient.invalidateQueries({ queryKey: trpc.passkey.list.queryKey() }),
    ]);
}

/** The secret in groups of four, easier to read out and type; authenticator apps ignore the spaces. */
function groupedSecret(secret: string): string {
  return secret.replace(/(.{4})(?=.)/g, '$1 ');
}

function AuthenticatorApp({ enabled, stepUp }: { enabled: boolean; stepUp: StepUp }) {
  const api = useTRPCClient();
  const refresh = useRefreshAccount();
  const [enrolment, setEnrolment] = useState<{ secret: string; qr: string } | null>(null);
  const [backupCodes, setBackupCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const [disabled, setDisabled] = useState(false);

  if (backupCodes) {
    return (
      <Card title="Authenticator app">
        <p role="status">Your authenticator app is on.</p>
        <h3 className="subhead">Save your backup codes</h3>
        <p>
          <strong>Save these codes now, somewhere safe: they are shown only this once.</strong> Each one works a single time, to sign in
          when your authenticator app is not at hand.
        </p>
        <ul className="backup-codes" aria-label="Backup codes">
          {backupCodes.map((backupCode) => (
            <li key={backupCode}>
              <code>{backupCode}</code>
            </li>
          ))}
        </ul>
        <button type="button" onClick={() => setBackupCodes(null)}>
          I have saved them
        </button>
      </Card>
    );
  }

  if (enabled) {
    return (
      <Card title="Authenticator app">
        <p>On: signing in with your password also asks for a code from your app.</p>
        <h3 className="subhead">Turn it off</h3>
        <p>Enter a code from your app, or a backup code. You will then confirm it is you with another one.</p>
        <Form
          submit="Turn off"
          onSubmit={async () => {
            await stepUp.run('totp_disable', (stepUpToken) => api.mfa.totp.disable.mutate({ code: code.trim(), stepUpToken }));
            setCode('');
            setDisabled(true);
            await refresh();
          }}
        >
          <Field
            label="Code from your app or a backup code"
            name="disable-code"
            autoComplete="one-time-code"
            value={code}
            onChange={setCode}
          />
        </Form>
      </Card>
    );
  }

  if (enrolment) {
    return (
      <Card title="Authenticator app">
        <ol className="steps">
          <li>
            Scan this QR code with your authenticator app.
            <img className="qr" src={enrolment.qr} alt="QR code for your authenticator app" width={200} height={200} />
          </li>
          <li>
            No camera? Enter this key in the app instead: <code className="secret">{groupedSecret(enrolment.secret)}</code>
          </li>
          <li>Enter the 6-digit code the app shows.</li>
        </ol>
        <Form
          submit="Turn on"
          onSubmit={async () => {
            const confirmed = await api.mfa.totp.confirm.mutate({ code: code.replace(/\s/g, '') });
            setCode('');
            setEnrolment(null);
            setBackupCodes(confirmed.backupCodes);
            await refresh();
          }}
        >
          <Field
            label="Code from the app"
            name="totp-code"
            inputMode="numeric"
            autoComplete="one-time-code"
            value={code}
            onChange={setCode}
          />
        </Form>
        <button type="button" className="link" onClick={() => setEnrolment(null)}>
          Cancel
        </button>
      </Card>
    );
  }

  return (
    <Card title="Authenticator app">
      {disabled && <p role="status">Your authenticator app is off, and its backup codes no longer work.</p>}
      <p>Off. With an authenticator app, signing in with your password also asks for a code from your phone.</p>
      <Form
        submit="Set up an authenticator app"
        onSubmit={async () => {
          const { secret, otpauthUri } = await api.mfa.totp.begin.mutate();
          setEnrolment({ secret, qr: await QRCode.toDataURL(otpauthUri, { width: 200, margin: 1 }) });
          setDisabled(false);
        }}
      >
        {null}
      </Form>
    </Card>
  );
}

function Passkeys({ stepUp }: { stepUp: StepUp }) {
  const api = useTRPCClient();
  const trpc = useTRPC();
  const refresh = useRefreshAccount();
  const list = useQuery(trpc.passkey.list.queryOptions());
  const [name, setName] = useState('');
  const supported = typeof window.PublicKeyCredential === 'function';

  return (
    <Card title="Passkeys">
      <p>Sign in with your fingerprint, face or screen lock instead of a password.</p>
      {list.data && list.data.length === 0 && <p>You have no passkeys yet.</p>}
      {list.data && list.data.length > 0 && (
        <ul className="passkeys" aria-label="Your passkeys">
          {list.data.map((passkey) => (
            <PasskeyItem key={passkey.id} passkey={passkey} stepUp={stepUp} />
          ))}
        </ul>
      )}
      {supported ? (
        <Form
          submit="Add a passkey"
          onSubmit={async () => {
            const trimmed = name.trim();
            await stepUp.run('passkey_add', (stepUpToken) =>
              registerPasskey(api, { ...(trimmed ? { name: trimmed } : {}), ...(stepUpToken ? { stepUpToken } : {}) }),
            );
            setName('');
            await refresh();
          }}
        >
          <Field label="Name for the new passkey (optional)" name="passkey-name" value={name} onChange={setName} required={false} />
        </Form>
      ) : (
        <p>This browser cannot use passkeys.</p>
      )}
    </Card>
  );
}

function PasskeyItem({ passkey, stepUp }: { passkey: Passkey; stepUp: StepUp }) {
  const api = useTRPCClient();
  const refresh = useRefreshAccount();
  const [renaming, setRenaming] = useState(false);
  const [name, setName] = useState(passkey.name);
  const [error, setError] = useState<string | null>(null);
  return (
    <li>
      <div className="passkey-name">{passkey.name}</div>
      <div className="passkey-facts">
        Added {passkey.createdAt.toLocaleDateString()}
        {' · '}
        {passkey.lastUsedAt ? `last used ${passkey.lastUsedAt.toLocaleDateString()}` : 'not used yet'}
        {passkey.backedUp ? ' · synced' : ''}
      </div>
      {renaming ? (
        <Form
          submit="Save name"
          onSubmit={async () => {
            await api.passkey.rename.mutate({ id: passkey.id, name: name.trim() });
            setRenaming(false);
            await refresh();
          }}
        >
          <Field label={`New name for ${passkey.name}`} name={`rename-${passkey.id}`} value={name} onChange={setName} />
        </Form>
      ) : (
        <div>
          <button type="button" className="secondary" aria-label={`Rename ${passkey.name}`} onClick={() => setRenaming(true)}>
            Rename
          </button>
          <RemoveButton passkey={passkey} stepUp={stepUp} onError={setError} onRemoved={refresh} />
        </div>
      )}
      {error && (
        <p role="alert" className="error">
          {error}
        </p>
      )}
    </li>
  );
}

function RemoveButton(props: { passkey: Passkey; stepUp: StepUp; onError: (message: string | null) => void; onRemoved: () => unknown }) {
  const api = useTRPCClient();
  const { passkey, stepUp, onError, onRemoved } = props;
  const [busy, setBusy] = useState(false);
  return (
    <button
      type="button"
      className="danger"
      aria-label={`Remove ${passkey.name}`}
      disabled={busy}
      onClick={() => {
        setBusy(true);
        onError(null);
        stepUp
          .run('passkey_remove', (stepUpToken) => api.passkey.remove.mutate({ id: passkey.id, stepUpToken }))
          .then(onRemoved, (error: unknown) => onError(messageOf(error)))
          .finally(() => setBusy(false));
      }}
    >
      Remove
    </button>
  );
}
