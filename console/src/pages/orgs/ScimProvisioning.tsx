import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { type ScimToken, useTRPC, useTRPCClient } from '../../api';
import { CopyValue } from '../../components/CopyValue';
import { Announcements, Card, Field } from '../../components/Form';
import type { StepUp } from '../../components/StepUp';
import { useAction } from '../../components/useAction';
import { explainedMessageOf } from '../../errors';
import { formatAgo, formatDateTime } from '../../format';
import { ScimGroupRoles } from './ScimGroupRoles';

/** The step-up of every SCIM change (docs/api.md, sso.scim). */
const stepUpAction = 'org_sso';

/** A token's shown name: its name and its first characters, which tell two tokens of one name apart. */
const labelOf = (token: ScimToken) => `${token.name} (${token.prefix}…)`;

/**
 * SCIM provisioning (docs/api.md, SCIM and sso.scim): the base URL and the bearer tokens the
 * organization's identity provider creates, updates and deprovisions its members with, and the
 * roles its groups give. A token can change every member, so each change asks for the `org_sso`
 * step-up, and a new token is shown once: the service keeps only its hash.
 */
export function ScimProvisioning({ organizationId, stepUp }: { organizationId: string; stepUp: StepUp }) {
  const trpc = useTRPC();
  // The same query as the token list's (one request): it answers the base URL the service is reached at.
  const tokens = useQuery(trpc.sso.scim.listTokens.queryOptions({ organizationId }));
  return (
    <Card title="Provisioning (SCIM)">
      <p>
        Let your identity provider (Okta, Microsoft Entra ID, OneLogin…) add, update and remove your members through SCIM. Give it the base
        URL and a token from here.
      </p>
      <dl className="facts">
        <dt>Base URL</dt>
        <dd>
          {/* `${PUBLIC_URL}/scim/v2`, as the service answers it. */}
          {tokens.data ? <CopyValue value={tokens.data.baseUrl} label="Copy the SCIM base URL" /> : <span aria-busy="true">…</span>}
        </dd>
      </dl>
      <ScimTokens organizationId={organizationId} stepUp={stepUp} />
      <ScimGroupRoles organizationId={organizationId} stepUp={stepUp} />
    </Card>
  );
}

function ScimTokens({ organizationId, stepUp }: { organizationId: string; stepUp: StepUp }) {
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const tokens = useQuery(trpc.sso.scim.listTokens.queryOptions({ organizationId }));
  const { act, busy, error, status } = useAction(
    () => queryClient.invalidateQueries({ queryKey: trpc.sso.scim.listTokens.queryKey({ organizationId }) }),
    explainedMessageOf,
  );
  const [name, setName] = useState('');
  /** The token just created, shown until dismissed: the service never answers it again. */
  const [created, setCreated] = useState<{ token: string; info: ScimToken } | null>(null);
  const [revoking, setRevoking] = useState<string | null>(null);
  const [focusOn, setFocusOn] = useState<'created' | 'heading' | null>(null);

  useEffect(() => {
    if (!focusOn) return;
    document.getElementById(focusOn === 'created' ? 'scim-new-token-title' : 'scim-tokens-title')?.focus();
    setFocusOn(null);
  }, [focusOn]);

  const create = () =>
    act(async () => {
      setCreated(null);
      const given = name.trim();
      const answer = await stepUp.run(stepUpAction, (stepUpToken) =>
        api.sso.scim.createToken.mutate({ organizationId, ...(given ? { name: given } : {}), stepUpToken }),
      );
      setName('');
      setCreated({ token: answer.token, info: answer.tokenInfo });
      setFocusOn('created');
      return `The token ${labelOf(answer.tokenInfo)} is created.`;
    });
  const revoke = (token: ScimToken) =>
    act(async () => {
      setRevoking(null);
      await stepUp.run(stepUpAction, (stepUpToken) => api.sso.scim.revokeToken.mutate({ organizationId, tokenId: token.id, stepUpToken }));
      if (created?.info.id === token.id) setCreated(null);
      setFocusOn('heading');
      return `The token ${labelOf(token)} is revoked: your identity provider can no longer use it.`;
    });

  const list = tokens.data?.tokens ?? [];
  return (
    <>
      <h3 id="scim-tokens-title" className="sso-subhead" tabIndex={-1}>
        Tokens
      </h3>
      <form
        className="add-domain"
        onSubmit={(event) => {
          event.preventDefault();
          create();
        }}
      >
        <Field
          label="Token name"
          name="scim-token-name"
          value={name}
          onChange={setName}
          autoComplete="off"
          required={false}
          hint="Optional, such as the identity provider's name; SCIM when left empty."
        />
        <button type="submit" disabled={busy}>
          Create token
        </button>
      </form>
      <p className="hint-after">
        Up to 3 tokens can be in use at once, so a new one can be set at the provider before the old one is revoked.
      </p>
      <Announcements status={status} error={error} />
      {created && (
        <section className="new-secret" aria-labelledby="scim-new-token-title">
          <h4 id="scim-new-token-title" tabIndex={-1}>
            Your new token: {created.info.name}
          </h4>
          <p>
            <strong>Copy it now and give it to your identity provider: you will not see it again.</strong> Only a fingerprint of it is kept,
            so if it is lost, create another one and revoke this one.
          </p>
          <CopyValue value={created.token} label="Copy the new token" />
          <button
            type="button"
            className="secondary"
            onClick={() => {
              setCreated(null);
              setFocusOn('heading');
            }}
          >
            I have copied it
          </button>
        </section>
      )}
      {tokens.error && (
        <p role="alert" className="error">
          {explainedMessageOf(tokens.error)}
        </p>
      )}
      {tokens.data &&
        (list.length === 0 ? (
          <p className="muted">No tokens yet.</p>
        ) : (
          <ul className="scim-items">
            {list.map((token) => (
              <li key={token.id}>
                <p className="scim-item-title">
                  <strong>{token.name}</strong> <code>{token.prefix}…</code>
                  {token.revokedAt && <span className="badge revoked">Revoked</span>}
                </p>
                <p className="muted">
                  Created {formatDateTime(token.createdAt)}
                  {' · '}
                  {token.lastUsedAt ? `Last used ${formatAgo(token.lastUsedAt)}` : 'Never used'}
                  {token.revokedAt && ` · Revoked ${formatDateTime(token.revokedAt)}`}
                </p>
                {!token.revokedAt && (
                  <button
                    type="button"
                    className="secondary"
                    disabled={busy}
                    aria-label={`Revoke ${labelOf(token)}`}
                    onClick={() => setRevoking(token.id)}
                  >
                    Revoke…
                  </button>
                )}
                {revoking === token.id && (
                  <section className="confirm" aria-label="Confirm">
                    <p>
                      <strong>Revoke {labelOf(token)}? Your identity provider's next call with it is refused.</strong>
                    </p>
                    <button type="button" className="danger" disabled={busy} onClick={() => revoke(token)}>
                      Yes, revoke
                    </button>
                    <button type="button" className="secondary" onClick={() => setRevoking(null)}>
                      Cancel
                    </button>
                  </section>
                )}
              </li>
            ))}
          </ul>
        ))}
    </>
  );
}
