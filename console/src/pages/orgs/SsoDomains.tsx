import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type ReactNode, useEffect, useState } from 'react';
import { type SsoDomain, useTRPC, useTRPCClient } from '../../api';
import { CopyValue } from '../../components/CopyValue';
import { Card, Field } from '../../components/Form';
import { useAction } from '../../components/useAction';
import { explainedMessageOf } from '../../errors';
import { formatDateTime } from '../../format';

const headingIdOf = (domain: string) => `domain-${domain.replace(/\W+/g, '-')}`;

/**
 * The organization's email domains (docs/api.md, sso.domains): add one, publish the TXT record
 * the service answers at the domain's DNS, verify it, remove it. Only a verified domain lets the
 * connection sign its people in by their address.
 */
export function SsoDomains({ organizationId, required }: { organizationId: string; required: boolean }) {
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const domains = useQuery(trpc.sso.domains.list.queryOptions({ organizationId }));
  const { act, busy, error, status } = useAction(() => queryClient.invalidateQueries({ queryKey: trpc.sso.pathKey() }), explainedMessageOf);
  const [name, setName] = useState('');
  /** The domain the last action was about (null: the add form), so its refusal shows where it was asked. */
  const [about, setAbout] = useState<string | null>(null);
  const [removing, setRemoving] = useState<string | null>(null);
  const [focusOn, setFocusOn] = useState<string | null>(null);

  // A domain just added: focus moves to it, where its record to publish is.
  useEffect(() => {
    if (!focusOn || !domains.data?.domains.some((domain) => domain.domain === focusOn)) return;
    document.getElementById(headingIdOf(focusOn))?.focus();
    setFocusOn(null);
  }, [focusOn, domains.data]);

  const run = (domain: string | null, work: () => Promise<string>) => {
    setAbout(domain);
    setRemoving(null);
    act(work);
  };
  const refusal = (domain: string | null) =>
    error && about === domain ? (
      <p role="alert" className="error">
        {error}
      </p>
    ) : null;

  return (
    <Card title="Email domains">
      <p>
        Prove that your organization holds its email domains: add one, publish the TXT record it shows at the domain's DNS provider, then
        verify it. People with an address at a verified domain can sign in through your identity provider.
      </p>
      <div aria-live="polite">{status && <p role="status">{status}</p>}</div>
      <form
        className="add-domain"
        onSubmit={(event) => {
          event.preventDefault();
          const domain = name.trim();
          run(null, async () => {
            const added = await api.sso.domains.add.mutate({ organizationId, domain });
            setName('');
            setFocusOn(added.domain);
            return added.verified
              ? `${added.domain} is already verified.`
              : `${added.domain} is added. Publish its TXT record, then verify it.`;
          });
        }}
      >
        <Field label="Domain" name="sso-domain" value={name} onChange={setName} autoComplete="off" hint="Such as example.com" />
        <button type="submit" disabled={busy}>
          Add domain
        </button>
      </form>
      {refusal(null)}
      {domains.error && (
        <p role="alert" className="error">
          {explainedMessageOf(domains.error)}
        </p>
      )}
      {domains.data &&
        (domains.data.domains.length === 0 ? (
          <p className="muted">No domains yet.</p>
        ) : (
          <ul className="domains">
            {domains.data.domains.map((domain) => (
              <DomainItem
                key={domain.domain}
                domain={domain}
                busy={busy}
                refusal={refusal(domain.domain)}
                removing={removing === domain.domain}
                required={required}
                onVerify={() =>
                  run(domain.domain, async () => {
                    await api.sso.domains.verify.mutate({ organizationId, domain: domain.domain });
                    return `${domain.domain} is verified.`;
                  })
                }
                onRemove={() => setRemoving(domain.domain)}
                onCancelRemove={() => setRemoving(null)}
                onConfirmRemove={() =>
                  run(domain.domain, async () => {
                    await api.sso.domains.remove.mutate({ organizationId, domain: domain.domain });
                    return `${domain.domain} is removed.`;
                  })
                }
              />
            ))}
          </ul>
        ))}
    </Card>
  );
}

function DomainItem(props: {
  domain: SsoDomain;
  busy: boolean;
  refusal: ReactNode;
  removing: boolean;
  /** Whether the organization requires single sign-on: removing a verified domain frees its members from it. */
  required: boolean;
  onVerify: () => void;
  onRemove: () => void;
  onCancelRemove: () => void;
  onConfirmRemove: () => void;
}) {
  const { domain, busy } = props;
  return (
    <li className="domain">
      <h3 id={headingIdOf(domain.domain)} tabIndex={-1}>
        {domain.domain}{' '}
        <span className={`badge ${domain.verified ? 'verified' : 'pending'}`}>{domain.verified ? 'Verified' : 'Pending'}</span>
      </h3>
      {domain.verified ? (
        <p className="muted">
          Verified{domain.verifiedAt ? ` on ${formatDateTime(domain.verifiedAt)}` : ''}: addresses at {domain.domain} sign in through the
          organization's connection.
        </p>
      ) : (
        <>
          <p>Publish this TXT record at the DNS provider of {domain.domain}, then verify it. DNS may take a few minutes to update.</p>
          <dl className="facts record">
            <dt>Type</dt>
            <dd>TXT</dd>
            <dt>Name</dt>
            <dd>
              <CopyValue value={domain.txtName} label={`Copy the record name for ${domain.domain}`} />
            </dd>
            <dt>Value</dt>
            <dd>
              <CopyValue value={domain.txtValue} label={`Copy the record value for ${domain.domain}`} />
            </dd>
          </dl>
          <button type="button" disabled={busy} aria-label={`Verify ${domain.domain}`} onClick={props.onVerify}>
            Verify
          </button>
        </>
      )}
      <button type="button" className="secondary" disabled={busy} aria-label={`Remove ${domain.domain}`} onClick={props.onRemove}>
        Remove…
      </button>
      {props.refusal}
      {props.removing && (
        <section className="confirm" aria-label="Confirm">
          <p>
            <strong>
              Remove {domain.domain}?{' '}
              {domain.verified
                ? `Its addresses no longer sign in through single sign-on${props.required ? ', which stops being required for them' : ''}, and another organization may verify it.`
                : 'Its record to publish is forgotten.'}
            </strong>
          </p>
          <button type="button" className="danger" disabled={busy} onClick={props.onConfirmRemove}>
            Yes, remove
          </button>
          <button type="button" className="secondary" onClick={props.onCancelRemove}>
            Cancel
          </button>
        </section>
      )}
    </li>
  );
}
