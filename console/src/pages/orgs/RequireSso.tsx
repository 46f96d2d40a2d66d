import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type Organization, useTRPC, useTRPCClient } from '../../api';
import { Announcements, Card } from '../../components/Form';
import { useAction } from '../../components/useAction';
import { explainedMessageOf } from '../../errors';
import { useSession } from '../../session';

/**
 * Required SSO (docs/api.md, org.update `requireSso`): members at a verified domain sign in only
 * through the organization's identity provider. The owner turns it on or off; the service
 * accepts it only with a usable connection and a verified domain (`SSO_NO_CONNECTION`).
 */
export function RequireSsoCard(props: { organization: Organization['organization']; owner: boolean }) {
  const { organization, owner } = props;
  const required = organization.requireSso;
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const { user } = useSession();
  const organizationId = organization.id;
  const domains = useQuery(trpc.sso.domains.list.queryOptions({ organizationId }));
  const connections = useQuery(trpc.sso.connections.list.queryOptions({ organizationId }));
  const { act, busy, error, status } = useAction(() => queryClient.invalidateQueries({ queryKey: trpc.org.pathKey() }), explainedMessageOf);
  const [confirming, setConfirming] = useState(false);

  const verified = (domains.data?.domains ?? []).filter((domain) => domain.verified).map((domain) => domain.domain);
  const connected = (connections.data?.connections.length ?? 0) > 0;
  const ownDomain = user?.email.split('@').at(-1)?.toLowerCase();
  const change = (requireSso: boolean) => {
    setConfirming(false);
    act(async () => {
      const { organization: saved } = await api.org.update.mutate({ organizationId, requireSso });
      // The setting as the service saved it, shown at once; the reload after confirms it.
      queryClient.setQueryData(trpc.org.get.queryKey({ organizationId }), (before) =>
        before ? { ...before, organization: { ...before.organization, requireSso: saved.requireSso } } : before,
      );
      return saved.requireSso
        ? 'Single sign-on is now required: members at the verified domains sign in only through the identity provider.'
        : 'Single sign-on is no longer required: members may sign in every way again.';
    });
  };

  return (
    <Card title="Required single sign-on">
      <p id="require-sso-help">
        When it is required, members whose address is at one of the verified domains sign in only through the identity provider: their
        passwords, emailed codes, passkeys and other providers are refused. Someone your provider disables can no longer sign in. Members
        with other addresses are not affected.
      </p>
      <ul className="readiness">
        <li>{connected ? 'An identity provider is connected.' : 'No identity provider is connected yet.'}</li>
        <li>
          {verified.length > 0
            ? `Verified ${verified.length === 1 ? 'domain' : 'domains'}: ${verified.join(', ')}.`
            : 'No domain is verified yet.'}
        </li>
      </ul>
      <Announcements status={status} error={error} />
      {!owner && (
        <p>
          <strong>{required ? 'Required. ' : 'Not required. '}</strong>
          Only the owner can change this.
        </p>
      )}
      {owner && (
        <div className="switch-row">
          <input
            id="require-sso"
            type="checkbox"
            role="switch"
            checked={required}
            aria-checked={required}
            disabled={busy}
            aria-describedby="require-sso-help"
            onChange={(event) => (event.target.checked ? setConfirming(true) : change(false))}
          />
          <label htmlFor="require-sso">Require single sign-on</label>
        </div>
      )}
      {confirming && (
        <section className="confirm" aria-label="Confirm">
          <p>
            <strong>Require single sign-on for the members at {verified.length > 0 ? verified.join(', ') : 'the verified domains'}?</strong>
          </p>
          {ownDomain && verified.includes(ownDomain) && (
            <p>Your own address is at {ownDomain}: your next sign-in goes through the identity provider too. Make sure it works first.</p>
          )}
          <button type="button" className="danger" disabled={busy} onClick={() => change(true)}>
            Yes, require it
          </button>
          <button type="button" className="secondary" onClick={() => setConfirming(false)}>
            Cancel
          </button>
        </section>
      )}
    </Card>
  );
}
