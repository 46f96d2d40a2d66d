import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { type OidcConnection, useTRPC, useTRPCClient } from '../../api';
import { CopyValue } from '../../components/CopyValue';
import { Announcements, Card, Field } from '../../components/Form';
import type { StepUp } from '../../components/StepUp';
import { useAction } from '../../components/useAction';
import { explainedMessageOf, issuesOf } from '../../errors';
import { formatDateTime } from '../../format';
import { SamlDetails } from './SamlDetails';

/** The step-up action of every connection change (docs/api.md, sso.connections). */
const stepUpAction = 'org_sso';
const defaultScopes = 'openid email profile';

type FieldName = 'issuer' | 'clientId' | 'clientSecret' | 'scopes';
type Problems = Partial<Record<FieldName, string>>;
interface Values {
  issuer: string;
  clientId: string;
  clientSecret: string;
  removeSecret: boolean;
  scopes: string;
}

/**
 * The organization's OpenID Connect connection (docs/api.md, sso.connections): its identity
 * provider's issuer and the client registered there. Every change asks for a step-up
 * (`org_sso`); the client secret is write-only: the service never answers it.
 */
export function SsoConnectionCard(props: {
  organizationId: string;
  stepUp: StepUp;
  /** Whether the organization requires single sign-on (`org.get`): its connection may not be deleted then. */
  required: boolean;
}) {
  const { organizationId, stepUp, required } = props;
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const connections = useQuery(trpc.sso.connections.list.queryOptions({ organizationId }));
  // Reloaded after each change: the connection, and the organization's requireSso, which a refused
  // delete (SSO_CONNECTION_IN_USE) shows was set meanwhile.
  const { act, busy, error, status } = useAction(
    () =>
      Promise.all([
        queryClient.invalidateQueries({ queryKey: trpc.sso.pathKey() }),
        queryClient.invalidateQueries({ queryKey: trpc.org.get.queryKey({ organizationId }) }),
      ]),
    explainedMessageOf,
  );
  const [editing, setEditing] = useState(false);
  const [deleting, setDeleting] = useState(false);
  /** Set after a save: focus moves to the connection as saved, where its redirect URI is. */
  const [focusTitle, setFocusTitle] = useState(false);
  const connection = connections.data?.connections[0];
  const shown = Boolean(connection) && !editing;

  useEffect(() => {
    if (!focusTitle || !shown) return;
    document.getElementById('connection-title')?.focus();
    setFocusTitle(false);
  }, [focusTitle, shown]);

  const submit = (values: Values, report: (problems: Problems) => void) =>
    act(async () => {
      try {
        if (!connection) {
          const secret = values.clientSecret.trim();
          await stepUp.run(stepUpAction, (stepUpToken) =>
            api.sso.connections.create.mutate({
              organizationId,
              type: 'oidc',
              issuer: values.issuer.trim(),
              clientId: values.clientId.trim(),
              ...(secret ? { clientSecret: secret } : {}),
              scopes: scopesOf(values.scopes),
              stepUpToken,
            }),
          );
          setFocusTitle(true);
          return `Connected to ${values.issuer.trim().replace(/\/+$/, '')}. Register the redirect URI shown below at your provider.`;
        }
        if (connection.type !== 'oidc') return 'Nothing changed.';
        const changes = changesOf(connection, values);
        if (Object.keys(changes).length === 0) {
          setEditing(false);
          return 'Nothing changed.';
        }
        await stepUp.run(stepUpAction, (stepUpToken) =>
          api.sso.connections.update.mutate({ organizationId, connectionId: connection.id, ...changes, stepUpToken }),
        );
        setEditing(false);
        setFocusTitle(true);
        return 'The connection is saved. Sign-ins use the new settings within seconds.';
      } catch (refusal) {
        // The fields the service named, beside their inputs.
        const named = problemsOf(refusal);
        if (Object.keys(named).length > 0) report(named);
        throw refusal;
      }
    });

  return (
    <Card title="Identity provider">
      <p>
        Connect the OpenID Connect provider your organization signs in with (Microsoft Entra ID, Okta, Google Workspace, Keycloak…). Every
        change asks for a fresh proof that it is you.
      </p>
      <Announcements status={status} error={error} />
      {connections.error && (
        <p role="alert" className="error">
          {explainedMessageOf(connections.error)}
        </p>
      )}
      {connections.data && !connection && (
        <>
          <h3 id="connection-form-title" className="sso-subhead">
            Connect a provider
          </h3>
          <p className="muted">Once connected, this page shows the redirect URI to register at the provider.</p>
          <ConnectionForm busy={busy} submitLabel="Connect" onSubmit={submit} />
        </>
      )}
      {connection && !editing && (
        <>
          {connection.type === 'oidc' ? (
            <>
              <h3 id="connection-title" className="sso-subhead" tabIndex={-1}>
                OpenID Connect connection
              </h3>
              <dl className="facts">
                <dt>Issuer</dt>
                <dd>{connection.issuer}</dd>
                <dt>Client id</dt>
                <dd>{connection.clientId}</dd>
                <dt>Client secret</dt>
                <dd>{connection.hasClientSecret ? 'Set (never shown)' : 'None: a public client'}</dd>
                <dt>Scopes</dt>
                <dd>{connection.scopes.join(' ')}</dd>
                <dt>Redirect URI</dt>
                <dd>
                  <CopyValue value={connection.redirectUri} label="Copy the redirect URI" />
                </dd>
                <dt>Updated</dt>
                <dd>{formatDateTime(connection.updatedAt)}</dd>
              </dl>
              <p className="hint-after">Register the redirect URI at the provider as an allowed redirect (callback) URI of the client.</p>
              <button type="button" className="secondary" disabled={busy} onClick={() => setEditing(true)}>
                Edit connection
              </button>
            </>
          ) : (
            <SamlDetails connection={connection} />
          )}
          <button type="button" className="secondary" disabled={busy} onClick={() => setDeleting(true)}>
            Delete connection…
          </button>
          {deleting && (
            <section className="confirm" aria-label="Confirm">
              <p>
                <strong>
                  Delete the connection to {connection.type === 'oidc' ? connection.issuer : connection.idpEntityId}? Nobody can sign in
                  through it any more.
                </strong>
              </p>
              {required ? (
                <p>
                  Single sign-on is required: without the connection, members at the verified domains would have no way to sign in. Stop
                  requiring it first (below).
                </p>
              ) : (
                <button
                  type="button"
                  className="danger"
                  disabled={busy}
                  onClick={() => {
                    setDeleting(false);
                    act(async () => {
                      await stepUp.run(stepUpAction, (stepUpToken) =>
                        api.sso.connections.delete.mutate({ organizationId, connectionId: connection.id, stepUpToken }),
                      );
                      return 'The connection is deleted.';
                    });
                  }}
                >
                  Yes, delete
                </button>
              )}
              <button type="button" className="secondary" onClick={() => setDeleting(false)}>
                Cancel
              </button>
            </section>
          )}
        </>
      )}
      {connection?.type === 'oidc' && editing && (
        <>
          <h3 className="sso-subhead">Edit the connection</h3>
          <ConnectionForm
            connection={connection}
            busy={busy}
            submitLabel="Save connection"
            onSubmit={submit}
            onCancel={() => setEditing(false)}
          />
        </>
      )}
    </Card>
  );
}

function ConnectionForm(props: {
  connection?: OidcConnection;
  busy: boolean;
  submitLabel: string;
  onSubmit: (values: Values, report: (problems: Problems) => void) => void;
  onCancel?: () => void;
}) {
  const { connection, busy } = props;
  const [values, setValues] = useState<Values>({
    issuer: connection?.issuer ?? '',
    clientId: connection?.clientId ?? '',
    clientSecret: '',
    removeSecret: false,
    scopes: connection?.scopes.join(' ') ?? defaultScopes,
  });
  const [problems, setProblems] = useState<Problems>({});
  const set = (field: keyof Values) => (value: string) => setValues((before) => ({ ...before, [field]: value }));
  const report = (found: Problems) => {
    setProblems(found);
    const first = fieldOrder.find((field) => found[field]);
    if (first) document.getElementById(`field-sso-${first}`)?.focus();
  };
  const secretHint = connection?.hasClientSecret
    ? 'Leave empty to keep the current secret. It is never shown again.'
    : connection
      ? 'Leave empty to keep it a public client (no secret).'
      : 'From the provider; leave empty for a public client. It is never shown again.';

  return (
    <form
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        const found = check(values);
        report(found);
        if (Object.keys(found).length === 0) props.onSubmit(values, report);
      }}
    >
      <Field
        label="Issuer URL"
        name="sso-issuer"
        type="url"
        inputMode="url"
        autoComplete="off"
        value={values.issuer}
        onChange={set('issuer')}
        hint="As the provider's discovery document names it, such as https://login.example.com/tenant/v2.0"
        error={problems.issuer}
      />
      <Field
        label="Client id"
        name="sso-clientId"
        autoComplete="off"
        value={values.clientId}
        onChange={set('clientId')}
        error={problems.clientId}
      />
      <Field
        label="Client secret"
        name="sso-clientSecret"
        type="password"
        autoComplete="new-password"
        required={false}
        value={values.clientSecret}
        onChange={set('clientSecret')}
        hint={secretHint}
        error={problems.clientSecret}
      />
      {connection?.hasClientSecret && (
        <div className="field checkbox">
          <input
            id="sso-remove-secret"
            type="checkbox"
            checked={values.removeSecret}
            onChange={(event) => setValues((before) => ({ ...before, removeSecret: event.target.checked }))}
          />
          <label htmlFor="sso-remove-secret">Remove the secret: the provider knows this client as a public one</label>
        </div>
      )}
      <Field
        label="Scopes"
        name="sso-scopes"
        autoComplete="off"
        value={values.scopes}
        onChange={set('scopes')}
        hint="Separated by spaces; openid is always asked for."
        error={problems.scopes}
      />
      <button type="submit" disabled={busy}>
        {props.submitLabel}
      </button>
      {props.onCancel && (
        <button type="button" className="secondary" onClick={props.onCancel}>
          Cancel
        </button>
      )}
    </form>
  );
}

const fieldOrder: FieldName[] = ['issuer', 'clientId', 'clientSecret', 'scopes'];

function scopesOf(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}

/**
 * The shapes `@iam/shared` accepts (ssoIssuerSchema and the rest), said before the round trip:
 * the service checks them again, and whether an issuer may be plain http is its decision.
 */
function check(values: Values): Problems {
  const problems: Problems = {};
  const issuer = values.issuer.trim();
  let url: URL | null = null;
  try {
    url = new URL(issuer);
  } catch {
    url = null;
  }
  if (!issuer) problems.issuer = "Enter the provider's issuer URL.";
  else if (!url || !/^https?:$/.test(url.protocol) || issuer.length > 2048)
    problems.issuer = 'Enter a full URL that starts with https://, such as https://login.example.com.';
  else if (/[?#]/.test(issuer)) problems.issuer = 'An issuer URL has no ? or # part.';
  const clientId = values.clientId.trim();
  if (!clientId) problems.clientId = 'Enter the client id the provider gave you.';
  else if (!/^[\x21-\x7e]{1,255}$/.test(clientId)) problems.clientId = 'A client id has no spaces or accented letters.';
  const secret = values.clientSecret.trim();
  if (secret && !/^[\x20-\x7e]{1,512}$/.test(secret))
    problems.clientSecret = 'A client secret is plain ASCII text, at most 512 characters.';
  if (secret && values.removeSecret) problems.clientSecret = 'Either enter a new secret or remove it, not both.';
  const scopes = scopesOf(values.scopes);
  if (scopes.length === 0) problems.scopes = 'Enter at least openid.';
  else if (scopes.length > 20 || scopes.some((scope) => !/^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/.test(scope)))
    problems.scopes = 'Scopes are words without quotes or backslashes, at most 20 of them.';
  return problems;
}

/** Only what the form changed: an empty secret keeps the current one. */
function changesOf(connection: OidcConnection, values: Values) {
  const changes: { issuer?: string; clientId?: string; clientSecret?: string | null; scopes?: string[] } = {};
  const issuer = values.issuer.trim();
  if (issuer.replace(/\/+$/, '') !== connection.issuer) changes.issuer = issuer;
  const clientId = values.clientId.trim();
  if (clientId !== connection.clientId) changes.clientId = clientId;
  const secret = values.clientSecret.trim();
  if (secret) changes.clientSecret = secret;
  else if (values.removeSecret) changes.clientSecret = null;
  const scopes = scopesOf(values.scopes);
  if (scopes.join(' ') !== connection.scopes.join(' ')) changes.scopes = scopes;
  return changes;
}

/** The refusal's zod issues by field (their paths are the input's keys). */
function problemsOf(refusal: unknown): Problems {
  const problems: Problems = {};
  for (const issue of issuesOf(refusal)) {
    const field = fieldOrder.find((name) => issue.path === name || issue.path.startsWith(`${name}.`));
    if (field) problems[field] ??= issue.message;
  }
  return problems;
}
