import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { Link, useLocation } from 'wouter';
import { activeOrganizationId, useTRPC, useTRPCClient } from '../../api';
import { Announcements, Card, Field, Form } from '../../components/Form';
import { useAction } from '../../components/useAction';
import { messageOf } from '../../errors';
import { roleLabels } from './roles';
import './orgs.css';

/** The user's organizations with their role, the one the session acts in, and a new one. */
export function OrganizationsPage() {
  const trpc = useTRPC();
  const api = useTRPCClient();
  const queryClient = useQueryClient();
  const [, navigate] = useLocation();
  const list = useQuery(trpc.org.list.queryOptions());
  const [active, setActive] = useState(activeOrganizationId);
  const [name, setName] = useState('');
  const [slug, setSlug] = useState('');
  const { busy, error, status, act } = useAction(() => queryClient.invalidateQueries({ queryKey: trpc.org.pathKey() }));

  const switchTo = (organizationId: string | null, label: string) =>
    act(async () => {
      // The client keeps the new token, which carries the organization; the session's refreshes keep it.
      const result = await api.org.switch.mutate({ organizationId });
      setActive(result.organization?.id ?? null);
      return organizationId ? `You now act in ${label}.` : 'You now act in no organization.';
    });

  return (
    <>
      <h1>Organizations</h1>
      <Announcements status={status} error={error} />
      <Card title="Your organizations">
        {list.error && (
          <p role="alert" className="error">
            {messageOf(list.error)}
          </p>
        )}
        {!list.data && !list.error && <p className="loading">Loading…</p>}
        {list.data?.organizations.length === 0 && <p>You are not a member of any organization yet.</p>}
        {list.data && list.data.organizations.length > 0 && (
          <ul className="orgs" aria-label="Your organizations">
            {list.data.organizations.map(({ organization, role }) => {
              const isActive = organization.id === active;
              return (
                <li key={organization.id} className={isActive ? 'org active' : 'org'}>
                  <div className="org-name">
                    <Link href={`/organizations/${organization.id}`}>{organization.name}</Link>
                    <span className="muted"> {organization.slug}</span>
                  </div>
                  <span className="badge role">{roleLabels[role]}</span>
                  {isActive ? (
                    <span className="badge active-badge">Active</span>
                  ) : (
                    <button
                      type="button"
                      className="secondary"
                      disabled={busy}
                      aria-label={`Act in ${organization.name}`}
                      onClick={() => switchTo(organization.id, organization.name)}
                    >
                      Make active
                    </button>
                  )}
                </li>
              );
            })}
          </ul>
        )}
        {active && (
          <button type="button" className="link" disabled={busy} onClick={() => switchTo(null, '')}>
            Act in no organization
          </button>
        )}
      </Card>
      <Card title="New organization">
        <Form
          submit="Create organization"
          onSubmit={async () => {
            const given = slug.trim();
            const { organization } = await api.org.create.mutate({ name: name.trim(), ...(given ? { slug: given } : {}) });
            await queryClient.invalidateQueries({ queryKey: trpc.org.list.queryKey() });
            setName('');
            setSlug('');
            navigate(`/organizations/${organization.id}`);
          }}
        >
          <Field label="Name" name="org-name" value={name} onChange={setName} autoComplete="organization" />
          <Field label="Slug (optional)" name="org-slug" value={slug} onChange={setSlug} required={false} />
          <p className="muted hint">Lower-case letters and digits, words joined by dashes; made from the name when left empty.</p>
        </Form>
      </Card>
    </>
  );
}
